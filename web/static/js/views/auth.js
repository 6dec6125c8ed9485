// Sign-in and registration pages.
import { h, messageBox } from '../dom.js';
import { login, register } from '../session.js';
import { navigate } from '../router.js';

function field(label, input, hint) {
  const id = `f-${input.name}`;
  input.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl);
}

// Disables the form while `work` runs and shows its error, if any.
async function submitting(form, message, work) {
  const button = form.querySelector('button[type=submit]');
  message.clear();
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await work();
  } catch (error) {
    message.show(error.message);
    form.querySelector('input')?.focus();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

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
    ['New here? ', h('a', { href: '#/register' }, 'Create an account')]));
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
    field('Password', password, 'At least 8 characters.'),
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
