import { api } from './api.js';
import { h, hasCommandModifier, isTypingTarget, replaceChildren } from './dom.js';
import { errorText, isAbort, isUnauthorized } from './errors.js';
import { formatNumber, formatTime, label, t, tn } from './i18n.js';
import { navigate, routeHash } from './router.js';

// The review states a filter can ask for, in the order a changeset meets them.
export const reviewStates = ['submitted', 'approved', 'changes_requested', 'rejected', 'merged', 'conflicted'];
const filterNames = ['state', 'min_risk', 'rule', 'contributor'];

/**
 * The queue (a contributor's own changesets for a contributor). Filters live in
 * the route's query, so a filtered queue can be bookmarked and Back restores it.
 */
export function renderQueue(page, { me, params, signedOut }) {
  const abort = new AbortController();
  const filters = Object.fromEntries(filterNames.filter((name) => params.get(name)).map((name) => [name, params.get(name)]));
  const isContributor = me.role === 'contributor';
  const count = h('p', { id: 'queue-count', 'aria-live': 'polite' }, t('common.loading'));
  const counts = h('ul', { id: 'queue-counts', class: 'counts' });
  const body = h('tbody');
  const message = h('p', { class: 'error', role: 'alert' });
  let rows = [];
  let selected = 0;

  replaceChildren(
    page,
    h('h1', {}, isContributor ? t('queue.titleMine') : t('queue.title')),
    renderFilters(filters, isContributor),
    counts,
    count,
    message,
    h(
      'table',
      { id: 'queue', class: 'queue' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['id', 'user', 'comment', 'state', 'risk', 'findings', 'rules', 'scopes', 'changes', 'submitted'].map((column) =>
            h('th', { scope: 'col' }, t(`queue.column.${column}`)),
          ),
        ),
      ),
      body,
    ),
    h('p', { class: 'hint' }, t('queue.keys')),
  );

  function select(index, focus) {
    if (!rows.length) return;
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => {
      row.classList.toggle('selected', i === selected);
      row.setAttribute('aria-selected', String(i === selected));
      row.tabIndex = i === selected ? 0 : -1;
    });
    if (focus) rows[selected].focus();
    rows[selected].scrollIntoView({ block: 'nearest' });
  }

  function onKey(event) {
    if (isTypingTarget(event.target) || hasCommandModifier(event) || !rows.length) return;
    if (event.key === 'j' || event.key === 'ArrowDown') {
      select(selected + 1, true);
    } else if (event.key === 'k' || event.key === 'ArrowUp') {
      select(selected - 1, true);
    } else if (event.key === 'Enter' && !activatesItself(event.target)) {
      navigate(['changeset', rows[selected].dataset.changeset]);
    } else {
      return;
    }
    event.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  api
    .queue(filters, abort.signal)
    .then(({ items = [], counts: stateCounts = {} }) => {
      replaceChildren(counts, renderCounts(stateCounts, filters));
      count.textContent = tn('queue.count', items.length);
      rows = items.map((item, index) => renderRow(item, items[index - 1]));
      replaceChildren(body, rows.length ? rows : h('tr', {}, h('td', { colspan: 10, class: 'empty' }, t('queue.empty'))));
      select(0, false);
    })
    .catch((error) => {
      if (isAbort(error)) return;
      if (isUnauthorized(error)) return signedOut();
      count.textContent = '';
      message.textContent = errorText(error);
    });

  return () => {
    abort.abort();
    document.removeEventListener('keydown', onKey);
  };
}

// Enter on a button or a link outside the table does what that control says.
function activatesItself(target) {
  return target instanceof Element && target.matches('button, a') && !target.closest('tr[data-changeset]');
}

function renderFilters(filters, isContributor) {
  const state = h(
    'select',
    { id: 'filter-state', name: 'state' },
    h('option', { value: '' }, t('queue.filter.anyState')),
    reviewStates.map((value) => h('option', { value, selected: filters.state === value }, label('state', value))),
  );
  const minRisk = h('input', { id: 'filter-min-risk', name: 'min_risk', type: 'number', min: 0, step: 'any', value: filters.min_risk ?? '' });
  const rule = h('input', { id: 'filter-rule', name: 'rule', value: filters.rule ?? '' });
  const contributor = h('input', { id: 'filter-contributor', name: 'contributor', type: 'number', min: 1, value: filters.contributor ?? '' });
  const fields = [
    [state, 'queue.filter.state'],
    [minRisk, 'queue.filter.minRisk'],
    [rule, 'queue.filter.rule'],
  ];
  if (!isContributor) fields.push([contributor, 'queue.filter.contributor']);
  return h(
    'form',
    {
      class: 'filters',
      onsubmit(event) {
        event.preventDefault();
        const chosen = {};
        for (const [input] of fields) if (input.value.trim()) chosen[input.name] = input.value.trim();
        navigate(['queue'], chosen);
      },
    },
    fields.map(([input, key]) => h('label', {}, h('span', {}, t(key)), input)),
    h('button', { type: 'submit' }, t('queue.filter.apply')),
    h('a', { href: routeHash(['queue']) }, t('queue.filter.clear')),
  );
}

function renderCounts(stateCounts, filters) {
  return Object.entries(stateCounts).map(([state, n]) =>
    h(
      'li',
      { dataset: { state } },
      h(
        'a',
        { href: routeHash(['queue'], { ...filters, state }), class: filters.state === state ? 'current' : null },
        h('span', { class: `state state-${state}` }, label('state', state)),
        ' ',
        formatNumber(n),
      ),
    ),
  );
}

function renderRow(item, previous) {
  // The API puts the caller's scopes first; a line marks where they end.
  const firstOutsideMine = previous?.mine && !item.mine;
  return h(
    'tr',
    {
      dataset: { changeset: String(item.id) },
      class: [item.mine && 'mine', firstOutsideMine && 'after-mine'],
      tabindex: -1,
      onclick: () => navigate(['changeset', String(item.id)]),
    },
    h('td', {}, h('a', { href: routeHash(['changeset', String(item.id)]) }, `#${item.id}`)),
    h('td', {}, item.user),
    h('td', { class: 'comment-cell' }, item.comment || h('span', { class: 'muted' }, t('common.noComment'))),
    h('td', {}, h('span', { class: `state state-${item.state}`, dataset: { state: item.state } }, label('state', item.state))),
    h('td', { class: 'number' }, formatNumber(item.risk ?? 0)),
    h('td', { class: 'number' }, formatNumber(item.findings ?? 0)),
    h('td', {}, (item.rules ?? []).join(', ')),
    h('td', {}, (item.scopes ?? []).join(', ')),
    h('td', { class: 'number' }, formatNumber(item.changes ?? 0)),
    h('td', {}, formatTime(item.submitted_at)),
  );
}
