// The HTTP client for docs/API.md. Requests are same-origin, so the HttpOnly
// session cookie authenticates them; organization-scoped ones name the
// current organization in X-Organization-Id.

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let organizationId = null;
let onUnauthorized = () => {};

export function setOrganization(id) {
  organizationId = id;
}

// Called when the session turns out to be gone (expired, or logged out in
// another tab) so the app can ask the user to sign in again.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function request(method, path, { body, auth = true, file } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // A file sent as the body, as its type says (captions).
  if (file !== undefined) headers['Content-Type'] = file.type;
  if (auth && organizationId) headers['X-Organization-Id'] = organizationId;
  let res;
  try {
    const sent = file !== undefined ? file.data : body === undefined ? undefined : JSON.stringify(body);
    res = await fetch(path, { method, headers, body: sent });
  } catch {
    throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  const err = data?.error;
  const error = new ApiError(res.status, err?.code ?? 'http', err?.message ?? `The server answered ${res.status} ${res.statusText}.`);
  if (auth && res.status === 401) onUnauthorized(error);
  return Promise.reject(error);
}

const org = (orgId) => `/api/orgs/${encodeURIComponent(orgId)}`;
const vid = (id) => `/api/videos/${encodeURIComponent(id)}`;
const stream = (id) => `/api/stream/${encodeURIComponent(id)}`;

export const api = {
  register: (fields) => request('POST', '/api/auth/register', { body: fields, auth: false }),
  login: (email, password) => request('POST', '/api/auth/login', { body: { email, password }, auth: false }),
  logout: () => request('POST', '/api/auth/logout'),
  me: () => request('GET', '/api/auth/me'),
  changePassword: (currentPassword, newPassword) => request('POST', '/api/auth/password', { body: { currentPassword, newPassword } }),
  sessions: () => request('GET', '/api/auth/sessions'),
  endSession: (id) => request('DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`),
  logoutAll: () => request('POST', '/api/auth/logout-all'),
  forgotPassword: (email) => request('POST', '/api/auth/forgot', { body: { email }, auth: false }),
  resetPassword: (token, newPassword) => request('POST', '/api/auth/reset', { body: { token, newPassword }, auth: false }),
  myInvitations: () => request('GET', '/api/auth/invitations'),
  acceptInvitation: (id) => request('POST', `/api/auth/invitations/${encodeURIComponent(id)}/accept`),
  declineInvitation: (id) => request('POST', `/api/auth/invitations/${encodeURIComponent(id)}/decline`),

  organizations: () => request('GET', '/api/orgs'),
  createOrganization: (name) => request('POST', '/api/orgs', { body: { name } }),
  // {slug} (owners), {embedOrigins: [origin]} (admins and owners).
  updateOrganization: (orgId, fields) => request('PATCH', org(orgId), { body: fields }),
  members: (orgId) => request('GET', `${org(orgId)}/members`),
  invite: (orgId, email, role) => request('POST', `${org(orgId)}/invitations`, { body: { email, role } }),
  invitations: (orgId) => request('GET', `${org(orgId)}/invitations`),
  revokeInvitation: (orgId, id) => request('DELETE', `${org(orgId)}/invitations/${encodeURIComponent(id)}`),
  apiKeys: (orgId) => request('GET', `${org(orgId)}/api-keys`),
  createApiKey: (orgId, name, role) => request('POST', `${org(orgId)}/api-keys`, { body: { name, role } }),
  revokeApiKey: (orgId, id) => request('DELETE', `${org(orgId)}/api-keys/${encodeURIComponent(id)}`),
  removeMember: (orgId, userId) => request('DELETE', `${org(orgId)}/members/${encodeURIComponent(userId)}`),

  changeRole: (orgId, member, role) =>
    request('PATCH', `${org(orgId)}/members/${encodeURIComponent(member.user.id)}`, { body: { role } }),

  // Webhooks (docs/api-webhooks.md): admins and owners.
  webhooks: (orgId) => request('GET', `${org(orgId)}/webhooks`),
  addWebhook: (orgId, fields) => request('POST', `${org(orgId)}/webhooks`, { body: fields }),
  updateWebhook: (orgId, id, fields) =>
    request('PATCH', `${org(orgId)}/webhooks/${encodeURIComponent(id)}`, { body: fields }),
  deleteWebhook: (orgId, id) => request('DELETE', `${org(orgId)}/webhooks/${encodeURIComponent(id)}`),
  testWebhook: (orgId, id) => request('POST', `${org(orgId)}/webhooks/${encodeURIComponent(id)}/test`),
  webhookDeliveries: (orgId, id) => request('GET', `${org(orgId)}/webhooks/${encodeURIComponent(id)}/deliveries`),
  redeliverWebhook: (orgId, id, deliveryId) =>
    request('POST', `${org(orgId)}/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`),

  videos: ({ cursor, limit = 24 } = {}) =>
    request('GET', `/api/videos?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  video: (id) => request('GET', vid(id)),
  updateVideo: (id, fields) => request('PATCH', vid(id), { body: fields }),
  deleteVideo: (id) => request('DELETE', vid(id)),
  reprocess: (id) => request('POST', `${vid(id)}/reprocess`),
  // A link that plays the video without a session for `expiresIn` seconds.
  playbackUrl: (id, expiresIn) => request('POST', `${vid(id)}/playback-url`, { body: { expiresIn } }),
  captions: (id) => request('GET', `${vid(id)}/captions`),
  downloads: (id) => request('GET', `${vid(id)}/downloads`),
  // `file`: {data: Blob or string, type: 'text/vtt' | 'application/x-subrip'}; adds or replaces.
  putCaptions: (id, language, label, file) =>
    request('PUT', `${vid(id)}/captions/${encodeURIComponent(language)}${label ? `?label=${encodeURIComponent(label)}` : ''}`, { file }),
  deleteCaptions: (id, language) => request('DELETE', `${vid(id)}/captions/${encodeURIComponent(language)}`),
  // The poster: a frame at `time` seconds, an image (a JPEG or PNG File), or back to the automatic frame.
  posterAt: (id, time) => request('PUT', `${vid(id)}/poster`, { body: { time } }),
  posterImage: (id, image) => request('PUT', `${vid(id)}/poster`, { file: { data: image, type: image.type } }),
  resetPoster: (id) => request('DELETE', `${vid(id)}/poster`),
};

// Stream URLs, for <video>, <img> and hls.js (authorized by the cookie).
export const media = {
  mp4: (id) => `${stream(id)}/video`,
  hls: (id) => `${stream(id)}/hls/master.m3u8`,
  // `version`: the video's poster.version, so that a new poster is a new URL.
  poster: (id, version) => `${stream(id)}/thumbnail.jpg${version ? `?v=${version}` : ''}`,
  storyboard: (id) => `${stream(id)}/storyboard.vtt`,
  frame: (id, time, width) => `${stream(id)}/thumbnail.jpg?time=${time.toFixed(2)}&width=${width}`,
};
