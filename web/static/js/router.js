// Hash routing (#/library, #/videos/:id, ...): the server serves only `/`
// and `/static/*`, so every page of the app lives behind the one index.html.

const routes = [];

// Adds a route: a pattern like '/videos/:id' and what to do with its params.
export function route(pattern, target) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  routes.push({ regex: new RegExp(`^${source}$`), names, target });
}

// The route matching the current hash: {target, params} or null.
export function current() {
  const path = location.hash.replace(/^#/, '') || '/';
  for (const { regex, names, target } of routes) {
    const m = regex.exec(path);
    if (m) return { path, target, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return { path, target: null, params: {} };
}

let pendingNotice = null;

// Goes to `path`; `notice` is a message for the page shown there (the
// sign-in page shows it above its form).
export function navigate(path, { replace = false, notice = null } = {}) {
  if (notice) pendingNotice = notice;
  if (replace) {
    history.replaceState(null, '', `#${path}`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = path;
  }
}

// The notice given to navigate(), once.
export function takeNotice() {
  const n = pendingNotice;
  pendingNotice = null;
  return n;
}

export function link(path) {
  return `#${path.split('/').map(encodeURIComponent).join('/')}`;
}
