// Sign in and register (one view, two tabs).
import { api } from '../api.js';
import { h } from '../ui.js';
import { setSession } from '../session.js';
import { navigate } from '../router.js';

export async function signinView(root, params, query) {
  let mode = query.mode === 'register' ? 'register' : 'signin';
  const err = h('p.error-text', { role: 'alert', testid: 'auth-error' });
  const name = h('input#auth-name', { type: 'text', autocomplete: 'name', testid: 'auth-name' });
  const email = h('input#auth-email', { type: 'email', required: true, autocomplete: 'username', testid: 'auth-email' });
  const password = h('input#auth-password', { type: 'password', required: true, minLength: 8,
    autocomplete: 'current-password', testid: 'auth-password' });
  const nameField = h('div.field', h('label', { for: 'auth-name' }, 'Name (optional)'), name);
  const submit = h('button.btn.btn-primary', { type: 'submit', style: { width: '100%', justifyContent: 'center' }, testid: 'auth-submit' });
  const tabSignin = h('button.btn', { type: 'button', role: 'tab', testid: 'tab-signin', onclick: () => setMode('signin') }, 'Sign in');
  const tabRegister = h('button.btn', { type: 'button', role: 'tab', testid: 'tab-register', onclick: () => setMode('register') }, 'Create account');

  function setMode(m) {
    mode = m;
    tabSignin.setAttribute('aria-selected', String(m === 'signin'));
    tabRegister.setAttribute('aria-selected', String(m === 'register'));
    nameField.hidden = m !== 'register';
    password.autocomplete = m === 'register' ? 'new-password' : 'current-password';
    submit.textContent = m === 'register' ? 'Create account' : 'Sign in';
    err.textContent = '';
  }

  async function onSubmit(e) {
    e.preventDefault();
    err.textContent = '';
    submit.disabled = true;
    try {
      const body = { email: email.value.trim(), password: password.value };
      if (mode === 'register' && name.value.trim()) body.name = name.value.trim();
      const r = await api(mode === 'register' ? '/api/auth/register' : '/api/auth/login',
        { method: 'POST', body, quiet: true, noAuthRedirect: true });
      setSession(r);
      navigate(query.next && query.next.startsWith('/') ? query.next : '/projects', { replace: true });
    } catch (ex) {
      err.textContent = ex.status === 401 ? 'Wrong e-mail or password.' : ex.message;
    } finally {
      submit.disabled = false;
    }
  }

  root.append(h('div.auth-wrap',
    h('div.panel',
      h('h1', { style: { marginBottom: '14px' } }, 'Welcome to seghub'),
      h('div.auth-tabs', { role: 'tablist' }, tabSignin, tabRegister),
      h('form', { onsubmit: onSubmit, testid: 'auth-form' },
        nameField,
        h('div.field', h('label', { for: 'auth-email' }, 'E-mail'), email),
        h('div.field', h('label', { for: 'auth-password' }, 'Password'), password),
        err, submit)),
    h('p.muted.small', { style: { textAlign: 'center' } },
      'Partial-discharge analysis works without an account: ', h('a', { href: '#/pd' }, 'PD analysis'), '.')));
  setMode(mode);
  email.focus();
}
