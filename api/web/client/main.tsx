/** The pages' script: mounts the view of the page the server named, and wires the frame's sign-out button. */
import { render } from 'preact';
import { api } from './api.js';
import { boot } from './boot.js';
import { VIEWS } from './pages/index.js';

document.getElementById('sign-out')?.addEventListener('click', () => {
  void api('POST', '/v1/auth/session/end')
    .catch(() => undefined)
    .then(() => window.location.assign('/login?signedOut=1'));
});

const mount = document.getElementById('app');
const load = VIEWS[boot.page];
if (mount !== null && load !== undefined) {
  void load().then((View) => {
    mount.replaceChildren();
    render(<View />, mount);
  });
}
