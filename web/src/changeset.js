import { api } from './api.js';
import { createDecisionDialog } from './decision.js';
import { h, hasCommandModifier, isTypingTarget, replaceChildren } from './dom.js';
import { errorText, isAbort, isUnauthorized } from './errors.js';
import { formatNumber, formatTime, label, t, tn } from './i18n.js';
import { createReviewMap, groupColor, layerGroups } from './map.js';
import { routeHash } from './router.js';

const decisionKeys = { a: 'approve', r: 'request_changes', x: 'reject' };

/**
 * The changeset page: its map, findings, tag diffs, conflicts, discussion and
 * audit log, and for a reviewer who may decide, the decisions.
 */
export function renderChangeset(page, id, { config, signedOut }) {
  const abort = new AbortController();
  const selectedKeys = new Set();
  let detail = null;
  let reviewMap = null;
  let left = false;

  const summary = h('section', { id: 'summary', class: 'summary' }, h('p', {}, t('common.loading')));
  const notice = h('p', { id: 'notice', class: 'notice', role: 'status' });
  const failure = h('p', { id: 'page-error', class: 'error', role: 'alert' });
  const mapContainer = h('div', { id: 'map', role: 'region', 'aria-label': t('changeset.map') });
  const decisions = h('section', { id: 'decisions', class: 'decisions' });
  const findings = h('section', { id: 'findings' });
  const elements = h('section', { id: 'elements' });
  const conflicts = h('section', { id: 'conflicts' });
  const discussion = h('section', { id: 'discussion' });
  const audit = h('section', { id: 'audit' });
  const dialog = createDecisionDialog({
    send: (action, body) => api.decide(id, action, body),
    onDecided: (action, answer) => {
      selectedKeys.clear();
      notice.replaceChildren(...decisionNotice(action, answer));
      load({ fit: false });
    },
  });

  replaceChildren(
    page,
    h('p', { class: 'back' }, h('a', { href: routeHash(['queue']) }, t('changeset.back'))),
    summary,
    notice,
    failure,
    h(
      'div',
      { class: 'changeset-layout' },
      h('div', { class: 'map-column' }, mapContainer, renderLegend()),
      h('div', { class: 'side-column' }, decisions, findings, conflicts),
    ),
    elements,
    discussion,
    audit,
    dialog.element,
  );
  document.body.removeAttribute('data-map-ready');

  try {
    reviewMap = createReviewMap(mapContainer, config, {
      onReady: () => {
        if (!left) document.body.dataset.mapReady = 'true';
      },
      onError: (error) => console.warn('geocommuns: map', error),
    });
    window.geocommunsReview = { map: reviewMap.map };
  } catch (error) {
    // Without WebGL the rest of the page still serves the review.
    document.body.dataset.mapError = error.message;
    replaceChildren(mapContainer, h('p', { class: 'error' }, t('changeset.mapUnavailable')));
  }

  function load({ fit }) {
    return api
      .changeset(id, abort.signal)
      .then((loaded) => {
        if (left) return;
        detail = loaded;
        failure.textContent = '';
        for (const key of [...selectedKeys]) if (!detail.elements?.some((e) => e.key === key)) selectedKeys.delete(key);
        renderAll();
        if (reviewMap) {
          document.body.removeAttribute('data-map-ready');
          reviewMap.show(detail, { fit });
        }
      })
      .catch((error) => {
        if (isAbort(error) || left) return;
        if (isUnauthorized(error)) return signedOut();
        failure.textContent = errorText(error);
      });
  }

  function renderAll() {
    replaceChildren(summary, renderSummary(detail));
    replaceChildren(decisions, renderDecisions(detail, selectedKeys, openDialog));
    replaceChildren(findings, renderFindings(detail, zoomTo));
    replaceChildren(conflicts, renderConflicts(detail));
    replaceChildren(elements, renderElements(detail, selectedKeys, zoomTo, () => replaceChildren(decisions, renderDecisions(detail, selectedKeys, openDialog))));
    replaceChildren(discussion, renderDiscussion(detail, postComment));
    replaceChildren(audit, renderAudit(detail));
  }

  function zoomTo(keys) {
    if (!reviewMap?.fitTo(detail, keys)) notice.textContent = t('changeset.noGeometry');
  }

  function openDialog(action) {
    if (!detail?.can_decide) return;
    if (action === 'approve_elements') {
      if (!selectedKeys.size) {
        notice.textContent = t('decision.selectFirst');
        return;
      }
      dialog.open(action, orderedSelection(detail, selectedKeys));
    } else {
      dialog.open(action);
    }
  }

  async function postComment(text) {
    await api.comment(id, text);
    notice.textContent = t('discussion.sent');
    await load({ fit: false });
  }

  // A shortcut opens the dialog when its key comes up, not down: the key's
  // character follows the keydown and would land in the comment box that the
  // dialog focuses (preventDefault does not stop it for synthetic key events).
  let armedKey = null;
  function shortcutAction(event) {
    if (dialog.isOpen || isTypingTarget(event.target) || hasCommandModifier(event) || !detail?.can_decide) return null;
    return event.key === 'p' ? 'approve_elements' : (decisionKeys[event.key] ?? null);
  }
  function onKeyDown(event) {
    armedKey = shortcutAction(event) ? event.key : null;
    if (armedKey) event.preventDefault();
  }
  function onKeyUp(event) {
    if (!armedKey || event.key !== armedKey) return;
    armedKey = null;
    const action = shortcutAction(event);
    if (action) openDialog(action);
  }
  document.addEventListener('keydown', onKeyDown);
  document.addEventListener('keyup', onKeyUp);

  load({ fit: true });

  return () => {
    left = true;
    abort.abort();
    document.removeEventListener('keydown', onKeyDown);
    document.removeEventListener('keyup', onKeyUp);
    dialog.close();
    reviewMap?.remove();
    window.geocommunsReview = { map: null };
    document.body.removeAttribute('data-map-ready');
    document.body.removeAttribute('data-map-error');
  };
}

function orderedSelection(detail, selectedKeys) {
  return (detail.elements ?? []).map((element) => element.key).filter((key) => selectedKeys.has(key));
}

function decisionNotice(action, answer) {
  const parts = [t(`decision.done.${action}`, { state: label('state', answer?.state ?? '') })];
  if (action !== 'approve_elements') return parts;
  parts.push(' ', tn('decision.accepted', answer?.accepted?.length ?? 0));
  for (const added of answer?.added ?? []) {
    parts.push(' ', t('decision.added', { key: added.key, because: added.because, reason: added.reason }));
  }
  if (answer?.returned) {
    parts.push(' ', h('a', { href: routeHash(['changeset', String(answer.returned)]) }, t('decision.returned', { id: String(answer.returned) })));
  }
  return parts;
}

function renderSummary(detail) {
  const { changeset } = detail;
  const tags = Object.entries(changeset.tags ?? {});
  return [
    h(
      'h1',
      {},
      t('changeset.title', { id: String(changeset.id) }),
      ' ',
      h('span', { id: 'state', class: `state state-${changeset.state}`, dataset: { state: changeset.state } }, label('state', changeset.state)),
    ),
    h('p', { class: 'changeset-comment' }, changeset.comment || h('span', { class: 'muted' }, t('common.noComment'))),
    h(
      'dl',
      { class: 'facts' },
      fact(t('changeset.author'), changeset.user),
      fact(t('changeset.risk'), formatNumber(detail.risk ?? 0)),
      fact(t('changeset.created'), formatTime(changeset.created_at)),
      changeset.closed_at && fact(changeset.open ? t('changeset.closesAt') : t('changeset.closed'), formatTime(changeset.closed_at)),
      fact(t('changeset.open'), changeset.open ? t('common.yes') : t('common.no')),
      (detail.scopes ?? []).length > 0 &&
        fact(
          t('changeset.scopes'),
          h(
            'ul',
            { id: 'scopes', class: 'scopes' },
            detail.scopes.map((scope) =>
              h(
                'li',
                { dataset: { scope: scope.scope } },
                scope.scope,
                ': ',
                scope.approved_by?.length ? t('changeset.approvedBy', { names: scope.approved_by.join(', ') }) : t('changeset.awaitingApproval'),
              ),
            ),
          ),
        ),
    ),
    detail.is_author && ['changes_requested', 'conflicted'].includes(changeset.state) && h('p', { class: 'notice' }, t(`changeset.authorHint.${changeset.state}`)),
    tags.length > 0 &&
      h(
        'details',
        { class: 'changeset-tags' },
        h('summary', {}, tn('changeset.tags', tags.length)),
        h('table', {}, h('tbody', {}, tags.map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, value))))),
      ),
  ];
}

function fact(term, description) {
  return [h('dt', {}, term), h('dd', {}, description)];
}

function renderLegend() {
  return h(
    'ul',
    { class: 'legend' },
    [...layerGroups].reverse().map((group) =>
      h('li', {}, h('span', { class: `swatch swatch-${group}`, style: { '--swatch': groupColor(group) } }), t(`legend.${group}`)),
    ),
  );
}

function renderDecisions(detail, selectedKeys, openDialog) {
  if (!detail.can_decide) {
    return detail.is_author ? [h('h2', {}, t('decision.heading')), h('p', { class: 'hint' }, t('decision.authorCannot'))] : [];
  }
  const button = (action, key, className) =>
    h(
      'button',
      { type: 'button', class: className, dataset: { action }, onclick: () => openDialog(action) },
      t(`decision.button.${action}`),
      ' ',
      h('kbd', {}, key),
    );
  return [
    h('h2', {}, t('decision.heading')),
    h(
      'div',
      { class: 'buttons' },
      button('approve', 'a', 'primary'),
      button('request_changes', 'r'),
      button('reject', 'x', 'danger'),
      h(
        'button',
        { type: 'button', dataset: { action: 'approve_elements' }, disabled: selectedKeys.size === 0, onclick: () => openDialog('approve_elements') },
        tn('decision.button.approve_elements', selectedKeys.size),
        ' ',
        h('kbd', {}, 'p'),
      ),
    ),
    h('p', { class: 'hint' }, t('decision.partialHint')),
  ];
}

function renderFindings(detail, zoomTo) {
  const list = detail.findings ?? [];
  return [
    h('h2', {}, tn('findings.heading', list.length)),
    list.length === 0
      ? h('p', { class: 'muted' }, t('findings.none'))
      : h(
          'ul',
          { class: 'findings' },
          list.map((finding) =>
            h(
              'li',
              { class: `finding severity-${finding.severity}`, dataset: { rule: finding.rule } },
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  title: t('findings.zoom'),
                  dataset: { elements: (finding.elements ?? []).join(' ') },
                  onclick: () => zoomTo(finding.elements ?? []),
                },
                h('span', { class: 'severity' }, label('severity', finding.severity)),
                ' ',
                h('code', {}, finding.rule),
                ' ',
                finding.message,
              ),
              (finding.elements ?? []).length > 0 && h('span', { class: 'keys' }, finding.elements.join(', ')),
            ),
          ),
        ),
  ];
}

function renderElements(detail, selectedKeys, zoomTo, onSelectionChange) {
  const list = detail.elements ?? [];
  return [
    h('h2', {}, tn('elements.heading', list.length)),
    list.map((element) => {
      const checkbox =
        detail.can_decide &&
        h('input', {
          type: 'checkbox',
          id: `select-${element.key.replace('/', '-')}`,
          dataset: { select: element.key },
          checked: selectedKeys.has(element.key),
          onchange(event) {
            if (event.target.checked) selectedKeys.add(element.key);
            else selectedKeys.delete(element.key);
            onSelectionChange();
          },
        });
      return h(
        'article',
        { class: `element action-${element.action}`, dataset: { element: element.key, action: element.action } },
        h(
          'header',
          {},
          checkbox,
          h(
            'label',
            { for: checkbox ? checkbox.id : null },
            h('span', { class: `action action-${element.action}` }, label('action', element.action)),
            ' ',
            h('code', {}, element.key),
            ' ',
            h('span', { class: 'versions' }, versionText(element)),
          ),
          h('button', { type: 'button', class: 'link', onclick: () => zoomTo([element.key]) }, t('elements.showOnMap')),
        ),
        geometryNote(element),
        renderTagDiff(element.tags ?? []),
      );
    }),
  ];
}

function versionText(element) {
  const version = (feature) => feature?.properties?.version;
  const parts = [];
  if (element.old) parts.push(t('elements.base', { version: String(version(element.old)) }));
  if (element.old && element.current && version(element.current) !== version(element.old)) {
    parts.push(t('elements.current', { version: String(version(element.current)) }));
  }
  return parts.join(' · ');
}

function geometryNote(element) {
  if (element.action !== 'modify' || !element.old || !element.new) return null;
  const same = JSON.stringify(element.old.geometry) === JSON.stringify(element.new.geometry);
  return same ? null : h('p', { class: 'geometry-changed' }, t('elements.geometryChanged'));
}

function renderTagDiff(tags) {
  if (!tags.length) return h('p', { class: 'muted' }, t('elements.noTags'));
  return h(
    'table',
    { class: 'tag-diff' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('elements.key')), h('th', { scope: 'col' }, t('elements.old')), h('th', { scope: 'col' }, t('elements.new')))),
    h(
      'tbody',
      {},
      tags.map((tag) => {
        const change = tag.old === null || tag.old === undefined ? 'added' : tag.new === null || tag.new === undefined ? 'removed' : tag.old === tag.new ? 'same' : 'changed';
        return h(
          'tr',
          { class: `tag-${change}`, dataset: { key: tag.key, change } },
          h('th', { scope: 'row' }, tag.key),
          h('td', { class: 'old' }, tag.old ?? ''),
          h('td', { class: 'new' }, tag.new ?? ''),
        );
      }),
    ),
  );
}

function renderConflicts(detail) {
  const list = detail.conflicts ?? [];
  if (!list.length) return [];
  return [
    h('h2', {}, tn('conflicts.heading', list.length)),
    list.map((conflict) =>
      h(
        'article',
        { class: 'conflict', dataset: { element: conflict.key, kind: conflict.kind } },
        h('h3', {}, h('code', {}, conflict.key), ' ', label('conflict', conflict.kind)),
        h('p', {}, conflict.message),
        h(
          'p',
          { class: 'versions' },
          t('conflicts.versions', { base: String(conflict.base_version ?? '–'), current: String(conflict.current_version ?? '–') }),
        ),
        (conflict.fields ?? []).length > 0 &&
          h(
            'table',
            { class: 'conflict-fields' },
            h(
              'thead',
              {},
              h('tr', {}, ['field', 'base', 'current', 'pending'].map((column) => h('th', { scope: 'col' }, t(`conflicts.column.${column}`)))),
            ),
            h(
              'tbody',
              {},
              conflict.fields.map((field) =>
                h(
                  'tr',
                  { dataset: { kind: field.kind, key: field.key ?? '' } },
                  h('th', { scope: 'row' }, label('field', field.kind), field.key ? [' ', h('code', {}, field.key)] : null),
                  fieldValue(field.base, field.absent_in_base),
                  fieldValue(field.current, field.absent_in_current),
                  fieldValue(field.pending, field.absent_in_pending),
                ),
              ),
            ),
          ),
      ),
    ),
  ];
}

function fieldValue(value, absent) {
  return absent ? h('td', { class: 'absent' }, t('conflicts.absent')) : h('td', {}, value ?? '');
}

function renderDiscussion(detail, postComment) {
  const comments = (detail.events ?? []).filter((event) => event.comment);
  const text = h('textarea', { id: 'comment-text', rows: 3, 'aria-label': t('discussion.write') });
  const send = h('button', { type: 'submit', id: 'comment-send' }, t('discussion.send'));
  const message = h('p', { class: 'error', role: 'alert' });
  return [
    h('h2', {}, tn('discussion.heading', comments.length)),
    comments.length === 0
      ? h('p', { class: 'muted' }, t('discussion.none'))
      : comments.map((event) =>
          h(
            'article',
            { class: 'comment', dataset: { seq: String(event.seq), kind: event.kind } },
            h(
              'header',
              {},
              h('strong', {}, event.actor || t('audit.system')),
              ' · ',
              h('time', { datetime: event.time }, formatTime(event.time)),
              event.kind !== 'commented' && [' · ', h('span', { class: `state state-${event.kind}` }, label('event', event.kind))],
            ),
            h('p', { class: 'comment-text' }, event.comment),
          ),
        ),
    h(
      'form',
      {
        class: 'comment-form',
        async onsubmit(event) {
          event.preventDefault();
          if (!text.value.trim()) return;
          send.disabled = true;
          message.textContent = '';
          try {
            await postComment(text.value.trim());
          } catch (error) {
            message.textContent = errorText(error);
            send.disabled = false;
          }
        },
      },
      text,
      h('div', { class: 'buttons' }, send),
      message,
    ),
  ];
}

function renderAudit(detail) {
  const events = detail.events ?? [];
  return [
    h('h2', {}, t('audit.heading')),
    events.length === 0
      ? h('p', { class: 'muted' }, t('audit.none'))
      : h(
          'table',
          { class: 'audit' },
          h(
            'thead',
            {},
            h('tr', {}, ['seq', 'time', 'kind', 'actor', 'scope', 'state', 'comment'].map((column) => h('th', { scope: 'col' }, t(`audit.column.${column}`)))),
          ),
          h(
            'tbody',
            {},
            events.map((event) =>
              h(
                'tr',
                { dataset: { seq: String(event.seq), kind: event.kind } },
                h('td', { class: 'number' }, String(event.seq)),
                h('td', {}, h('time', { datetime: event.time }, formatTime(event.time))),
                h('td', {}, label('event', event.kind)),
                h('td', {}, event.actor || t('audit.system')),
                h('td', {}, event.scope ?? ''),
                h('td', {}, event.state ? label('state', event.state) : ''),
                h('td', { class: 'comment-cell' }, event.comment ?? ''),
              ),
            ),
          ),
        ),
  ];
}
