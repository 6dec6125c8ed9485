// Who is signed in, their organizations, and the one the UI acts in.
// The session itself is the HttpOnly cookie; localStorage only remembers
// that there is one (so a signed-out visitor costs no failing request) and
// which organization was picked last.
import { api, setOrganization } from './api.js';

const SIGNED_IN = 'reel.signedIn';
const orgKey = (userId) => `reel.org.${userId}`;
const RANK = { viewer: 1, member: 2, admin: 3, owner: 4 };

export const session = {
  user: null,
  organizations: [],
  organization: null,  // the current one: {id, name, role, createdAt}
};

const listeners = new Set();

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed() {
  for (const fn of listeners) fn(session);
}

function pickOrganization(id) {
  const orgs = session.organizations;
  session.organization = orgs.find((o) => o.id === id) ?? orgs[0] ?? null;
  setOrganization(session.organization?.id ?? null);
  if (session.user && session.organization) localStorage.setItem(orgKey(session.user.id), session.organization.id);
}

function signedIn({ user, organizations }, preferredOrg) {
  session.user = user;
  session.organizations = organizations;
  pickOrganization(preferredOrg ?? localStorage.getItem(orgKey(user.id)));
  localStorage.setItem(SIGNED_IN, '1');
  changed();
}

// Restores the session from the cookie, if the browser has one.
export async function restore() {
  if (!localStorage.getItem(SIGNED_IN)) return false;
  try {
    signedIn(await api.me());
    return true;
  } catch (error) {
    if (error.status !== 401) throw error;
    forget();
    return false;
  }
}

export async function login(email, password) {
  signedIn(await api.login(email, password));
}

export async function register(fields) {
  const res = await api.register(fields);
  signedIn({ user: res.user, organizations: [res.organization] }, res.organization.id);
}

export async function logout() {
  try {
    await api.logout();
  } finally {
    forget();
  }
}

// Drops the local state (after logout, or when the server says the session is gone).
export function forget() {
  localStorage.removeItem(SIGNED_IN);
  session.user = null;
  session.organizations = [];
  session.organization = null;
  setOrganization(null);
  changed();
}

export function switchOrganization(id) {
  if (id === session.organization?.id) return;
  pickOrganization(id);
  changed();
}

// Reloads the memberships (after creating an organization or changing roles).
export async function refreshOrganizations(preferredOrg) {
  const { user, organizations } = await api.me();
  signedIn({ user, organizations }, preferredOrg ?? session.organization?.id);
}

// True when the current role is at least `role` (viewer < member < admin < owner).
export function can(role) {
  return (RANK[session.organization?.role] ?? 0) >= RANK[role];
}
