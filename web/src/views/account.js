// Sign up, confirm the emailed code, sign in. The user pool takes the email as the user
// name; its messages (password policy, wrong code) are shown as they are.

import { alertBox, field, h } from '../dom.js';

const hash = (path, params) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const search = q.toString();
  return `#/${path}${search ? `?${search}` : ''}`;
};

/**
 * A form whose submit runs action with the button disabled and shows a failure in its
 * role=alert box; returns the pieces for the view to place.
 */
function authForm({ id, fields, submitText, action, extra }) {
  const error = alertBox(`${id}-error`);
  const submit = h('button', { type: 'submit', id: `${id}-submit` }, submitText);
  const form = h('form', { class: 'stack' }, fields, h('div', { class: 'actions' }, submit, extra), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await action(error);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

const emailInput = (id, value) =>
  h('input', { id, type: 'email', name: 'email', autocomplete: 'username', required: true, value: value ?? '' });

export function renderSignUp(main, _param, { auth, go }) {
  const email = emailInput('signup-email');
  const password = h('input', { id: 'signup-password', type: 'password', name: 'password', autocomplete: 'new-password', required: true });
  const form = authForm({
    id: 'signup',
    submitText: 'Create account',
    fields: [field('Email', email), field('Password', password, 'The pool sets the rules: typically 8 characters or more with upper and lower case letters, digits and symbols.')],
    action: async () => {
      const address = email.value.trim();
      const { confirmed } = await auth.signUp(address, password.value);
      go(hash('confirm', { email: address, confirmed: confirmed ? '1' : '' }));
    },
  });
  main.append(
    h('h1', null, 'Create an account'),
    form,
    h('p', null, 'Already registered? ', h('a', { href: '#/signin' }, 'Sign in'), ' · Have a code? ', h('a', { href: '#/confirm' }, 'Confirm your email')),
  );
}

export function renderConfirm(main, _param, { auth, go, flash, query }) {
  const email = emailInput('confirm-email', query.get('email'));
  const code = h('input', { id: 'confirm-code', type: 'text', name: 'code', inputMode: 'numeric', autocomplete: 'one-time-code', required: true });
  const sent = h('p', { class: 'status', role: 'status' });
  const resend = h('button', { type: 'button', class: 'button-quiet', id: 'confirm-resend' }, 'Send a new code');
  const form = authForm({
    id: 'confirm',
    submitText: 'Confirm',
    fields: [field('Email', email), field('Code from the email', code)],
    extra: resend,
    action: async () => {
      await auth.confirm(email.value.trim(), code.value.trim());
      flash('Email confirmed: sign in.');
      go(hash('signin', { email: email.value.trim() }));
    },
  });
  resend.addEventListener('click', async () => {
    sent.textContent = '';
    form.querySelector('[role=alert]').textContent = '';
    resend.disabled = true;
    try {
      const to = await auth.resendCode(email.value.trim());
      sent.textContent = `A new code was sent${to ? ` to ${to}` : ''}.`;
    } catch (err) {
      form.querySelector('[role=alert]').textContent = err.message;
    } finally {
      resend.disabled = false;
    }
  });
  main.append(
    h('h1', null, 'Confirm your email'),
    query.get('confirmed')
      ? h('p', { class: 'note' }, 'Your account is already confirmed: ', h('a', { href: hash('signin', { email: query.get('email') }) }, 'sign in'), '.')
      : h('p', null, 'Enter the code the user pool emailed you.'),
    form,
    sent,
  );
}

export function renderSignIn(main, _param, { auth, go, flash, query }) {
  const email = emailInput('signin-email', query.get('email'));
  const password = h('input', { id: 'signin-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const form = authForm({
    id: 'signin',
    submitText: 'Sign in',
    fields: [field('Email', email), field('Password', password)],
    action: async (error) => {
      try {
        await auth.signIn(email.value.trim(), password.value);
      } catch (err) {
        if (err.code !== 'UserNotConfirmedException') throw err;
        error.replaceChildren(`${err.message} `, h('a', { href: hash('confirm', { email: email.value.trim() }) }, 'Confirm your email'), '.');
        return;
      }
      flash(`Signed in as ${auth.user?.email ?? email.value.trim()}.`);
      go('#/');
    },
  });
  main.append(
    h('h1', null, 'Sign in'),
    form,
    h('p', null, 'New here? ', h('a', { href: '#/signup' }, 'Create an account')),
  );
}
