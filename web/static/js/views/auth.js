// Sign-in, registration and password reset pages.
import { h, messageBox } from '../dom.js';
import { api } from '../api.js';
import { login, register } from '../session.js';
import { navigate } from '../router.js';
import { field, submitting } from './forms.js';

function authPage(title, subtitle, form, footer) {
  return h('section', { class: 'auth' },
    h('div', { class: 'auth-brand' }, h('img', { src: '/static/icon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'reel')),
    h('div', { class: 'card auth-card' },
      h('h1', { tabindex: -1 }, title),
      h('p', { class: 'muted' }, subtitle),
      form,
      h('p', { class: 'auth-switch' }, footer)));
}

export function renderLogin(main, params, notice) {
  const message = messageBox();
  if (notice) message.show(notice, 'info');
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'form' },
    message.el,
    field('Email', email),
    field('Password', password),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(form, message, async () => {
      await login(email.value, password.value);
      navigate('/library');
    });
  });
  main.replaceChildren(authPage('Sign in', 'Welcome back. Sign in to your video library.', form,
    [h('a', { href: '#/forgot' }, 'Forgot your password?'), h('br'), 'New here? ', h('a', { href: '#/register' }, 'Create an account')]));
  email.focus();
}

export function renderRegister(main) {
  const message = messageBox();
  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const orgName = h('input', { name: 'organizationName', autocomplete: 'organization', required: true, maxlength: 100 });
  const form = h('form', { class: 'form' },
    message.el,
    field('Your name', name),
    field('Email', email),
    field('Password', password, 'At least 8 characters, and not a common password: a few unrelated words work well.'),
    field('Organization', orgName, 'Your team or company; you can invite others to it later.'),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Create account'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(form, message, async () => {
      await register({ name: name.value, email: email.value, password: password.value, organizationName: orgName.value });
      navigate('/library');
    });
  });
  main.replaceChildren(authPage('Create your account', 'Upload, process and stream your videos.', form,
    ['Already have an account? ', h('a', { href: '#/login' }, 'Sign in')]));
  name.focus();
}

// Asks for a reset link by email (sent when the server has an SMTP server
// configured; otherwise an operator makes one with `reel user reset-password`).
export function renderForgot(main) {
  const message = messageBox();
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const form = h('form', { class: 'form' },
    message.el,
    field('Email', email),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Send a reset link'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(form, message, async () => {
      await api.forgotPassword(email.value);
      message.show('If an account uses that email, a link to choose a new password is on its way. ' +
        'It works once, within an hour. No email? Ask whoever runs this reel for a link.', 'info');
    });
  });
  main.replaceChildren(authPage('Forgot your password?', 'We will email you a link to choose a new one.', form,
    ['Remembered it? ', h('a', { href: '#/login' }, 'Sign in')]));
  email.focus();
}

// Redeems a reset link: #/reset-password/<token>.
export function renderReset(main, params) {
  const message = messageBox();
  const next = h('input', { name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const form = h('form', { class: 'form' },
    message.el,
    field('New password', next, 'At least 8 characters, and not a common password: a few unrelated words work well.'),
    field('New password again', again),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set the new password'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (next.value !== again.value) {
      message.show('The two passwords are not the same.');
      again.focus();
      return;
    }
    submitting(form, message, async () => {
      await api.resetPassword(params.token, next.value);
      navigate('/login', { replace: true, notice: 'Your password was changed and every session signed out. Sign in with the new one.' });
    });
  });
  main.replaceChildren(authPage('Choose a new password', 'Every session of your account will be signed out.', form,
    ['Link expired? ', h('a', { href: '#/forgot' }, 'Ask for a new one')]));
  next.focus();
}
