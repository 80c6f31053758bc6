// The login page's one script: names why the previous attempt failed (the node redirects
// back here with ?failed=...). The form itself works without it.

const REASONS = {
  credentials: 'Wrong user name or password.',
  'rate-limited': 'Too many failed attempts from this address. Wait a minute and try again.',
};

const failed = new URLSearchParams(location.search).get('failed');
const status = document.getElementById('login-status');
if (failed && status) status.textContent = REASONS[failed] ?? 'The login failed.';
