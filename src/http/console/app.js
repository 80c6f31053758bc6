// The console's entry point: starts the live connection and routes the URL's hash
// (#/overview, #/topics, #/topics/NAME, #/messages, #/produce, #/groups, #/groups/ID) to
// a page module, giving each page the chance to stop its timers and subscriptions on leave.

import { live } from './live.js';
import { api, LOGIN_PAGE } from './api.js';
import { h, replace, hideNotice, showNotice } from './dom.js';
import { setWhoami } from './permissions.js';
import * as overview from './pages/overview.js';
import * as topics from './pages/topics.js';
import * as topic from './pages/topic.js';
import * as messages from './pages/messages.js';
import * as produce from './pages/produce.js';
import * as groups from './pages/groups.js';
import * as group from './pages/group.js';

const routes = [
  { pattern: /^\/overview$/, nav: 'overview', page: overview },
  { pattern: /^\/topics$/, nav: 'topics', page: topics },
  { pattern: /^\/topics\/(.+)$/, nav: 'topics', page: topic },
  { pattern: /^\/messages$/, nav: 'messages', page: messages },
  { pattern: /^\/produce$/, nav: 'produce', page: produce },
  { pattern: /^\/groups$/, nav: 'groups', page: groups },
  { pattern: /^\/groups\/(.+)$/, nav: 'groups', page: group },
];

let leave = null;

function route() {
  const hash = location.hash.replace(/^#/, '') || '/overview';
  const [path, query = ''] = hash.split('?');
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (leave) {
    try {
      leave();
    } catch {
      // A page that fails to clean up must not stop the next one from showing.
    }
    leave = null;
  }
  hideNotice();
  const container = document.getElementById('page');
  for (const link of document.querySelectorAll('#nav a'))
    link.classList.toggle('active', match?.r.nav === link.dataset.page);
  if (!match) {
    replace(container, h('h1', {}, 'Not found'), h('p', {}, 'There is no console page at ', h('code', {}, hash), '.'));
    return;
  }
  replace(container);
  const params = { name: match.m[1] ? decodeURIComponent(match.m[1]) : null, query: new URLSearchParams(query) };
  document.title = `Brook · ${match.r.nav}`;
  leave = match.r.page.render(container, params) ?? null;
}

/** Shows who is logged in and a logout button (when the node asks for authentication). */
function showUser(whoami) {
  const element = document.getElementById('user');
  if (!whoami.authenticationEnabled) return;
  const name = whoami.principal.replace(/^User:/, '');
  const logout = async () => {
    try {
      await api('POST', '/api/v1/logout');
    } finally {
      location.assign(LOGIN_PAGE);
    }
  };
  replace(
    element,
    h('span', { id: 'user-name' }, name),
    h('button', { class: 'small', id: 'logout', onclick: logout }, 'Log out'),
  );
  element.hidden = false;
}

async function start() {
  // Without a session the API answers 401 and api() opens the login page. A node that cannot
  // be reached is said so, and the pages still start (they retry on their own).
  let whoami = { authenticationEnabled: false };
  try {
    whoami = await api('GET', '/api/v1/whoami');
  } catch (error) {
    if (error.status === 401) return;
    showNotice(error);
  }
  setWhoami(whoami);
  showUser(whoami);
  window.addEventListener('hashchange', route);
  live.start(document.getElementById('live-status'), whoami.authenticationEnabled);
  route();
}

window.addEventListener('unhandledrejection', (event) => showNotice(event.reason));
start().catch((error) => showNotice(error));
