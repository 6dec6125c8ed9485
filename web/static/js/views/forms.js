// Form pieces the views share: a labelled field, and a submit that disables
// the form while it runs and shows its error.
import { h } from '../dom.js';

export function field(label, input, hint) {
  const id = `f-${input.name}`;
  input.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl);
}

// Disables the form while `work` runs and shows its error, if any.
export async function submitting(form, message, work) {
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
