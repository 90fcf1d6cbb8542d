import { api } from './api.js';
import { h, replaceChildren } from './dom.js';
import { errorText } from './errors.js';
import { t } from './i18n.js';

/** The sign-in form; onSignedIn gets the new session's Me. */
export function renderSignIn(page, { onSignedIn }) {
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { id: 'login-submit', type: 'submit' }, t('signin.submit'));
  const message = h('p', { id: 'login-error', class: 'error', role: 'alert' });

  async function signIn(event) {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = '';
    try {
      const me = await api.signIn(user.value, password.value);
      await onSignedIn(me);
    } catch (error) {
      message.textContent = error.status === 401 ? t('signin.failed') : errorText(error);
      password.select();
    } finally {
      submit.disabled = false;
    }
  }

  replaceChildren(
    page,
    h(
      'form',
      { class: 'sign-in', onsubmit: signIn },
      h('h1', {}, t('signin.title')),
      h('p', { class: 'hint' }, t('signin.intro')),
      h('label', { for: 'login-user' }, t('signin.user')),
      user,
      h('label', { for: 'login-password' }, t('signin.password')),
      password,
      submit,
      message,
    ),
  );
  user.focus();
  return () => {};
}
