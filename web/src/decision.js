import { h, replaceChildren } from './dom.js';
import { errorText } from './errors.js';
import { t, tn } from './i18n.js';

// Which decisions need a comment before they are sent: the author must be told
// why a changeset comes back.
const commentRequired = new Set(['request_changes', 'reject']);

/**
 * The decision dialog (#decision-dialog). open(action, elements) shows it with
 * the focus in #decision-comment; Ctrl+Enter sends, Escape closes. send(action,
 * body) makes the call; its answer goes to onDecided.
 */
export function createDecisionDialog({ send, onDecided }) {
  const title = h('h2', { id: 'decision-title' });
  const selection = h('div', { id: 'decision-elements' });
  const comment = h('textarea', { id: 'decision-comment', rows: 5, 'aria-labelledby': 'decision-comment-label' });
  const message = h('p', { id: 'decision-error', class: 'error', role: 'alert' });
  const sendButton = h('button', { type: 'submit', id: 'decision-send', class: 'primary' });
  const cancel = h('button', { type: 'button', id: 'decision-cancel', onclick: () => dialog.close() }, t('decision.cancel'));
  let current = null;
  let sending = false;

  const form = h(
    'form',
    { method: 'dialog', onsubmit: submit },
    title,
    selection,
    h('label', { id: 'decision-comment-label', for: 'decision-comment' }, t('decision.comment')),
    comment,
    h('p', { class: 'hint' }, t('decision.keys')),
    message,
    h('div', { class: 'buttons' }, cancel, sendButton),
  );
  const dialog = h('dialog', { id: 'decision-dialog', 'aria-labelledby': 'decision-title' }, form);

  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(event);
    }
    // The page's shortcuts must not fire while the dialog has the keyboard.
    event.stopPropagation();
  });
  dialog.addEventListener('close', () => {
    current = null;
  });

  async function submit(event) {
    event.preventDefault();
    if (!current || sending) return;
    const text = comment.value.trim();
    if (commentRequired.has(current.action) && !text) {
      message.textContent = t('decision.commentRequired');
      comment.focus();
      return;
    }
    const body =
      current.action === 'approve_elements' ? { elements: current.elements, comment: text } : { comment: text };
    sending = true;
    sendButton.disabled = true;
    message.textContent = '';
    try {
      const answer = await send(current.action, body);
      const decided = current;
      dialog.close();
      onDecided(decided.action, answer);
    } catch (error) {
      message.textContent = errorText(error);
      comment.focus();
    } finally {
      sending = false;
      sendButton.disabled = false;
    }
  }

  return {
    element: dialog,
    get isOpen() {
      return dialog.open;
    },
    open(action, elements = []) {
      current = { action, elements };
      title.textContent = t(`decision.title.${action}`);
      sendButton.textContent = t(`decision.send.${action}`);
      sendButton.className = action === 'reject' ? 'danger' : 'primary';
      replaceChildren(
        selection,
        action === 'approve_elements'
          ? [h('p', {}, tn('decision.selected', elements.length)), h('ul', {}, elements.map((key) => h('li', {}, h('code', {}, key))))]
          : [],
      );
      comment.value = '';
      comment.placeholder = commentRequired.has(action) ? t('decision.commentNeeded') : t('decision.commentOptional');
      comment.required = commentRequired.has(action);
      message.textContent = '';
      dialog.showModal();
      comment.focus();
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
