import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import { api } from './api.js';
import { h, replaceChildren } from './dom.js';
import { errorText, isAbort, isUnauthorized } from './errors.js';
import { applyDocumentLanguage, label, t } from './i18n.js';
import { currentRoute, navigate, onRouteChange, routeHash } from './router.js';
import { renderSignIn } from './signin.js';
import { renderQueue } from './queue.js';
import { renderChangeset } from './changeset.js';

const appBar = document.getElementById('app-bar');
const page = document.getElementById('page');

let me = null;
let config = null;
let leaveCurrentPage = null;
let routeGeneration = 0;

applyDocumentLanguage();
onRouteChange(showRoute);
showRoute();

async function showRoute() {
  const generation = ++routeGeneration;
  leaveCurrentPage?.();
  leaveCurrentPage = null;
  if (!me) {
    try {
      me = await api.me();
      config = await api.config();
    } catch (error) {
      if (generation !== routeGeneration) return;
      me = null;
      if (isUnauthorized(error)) showSignIn();
      else showFatal(error);
      return;
    }
    if (generation !== routeGeneration) return;
  }
  renderAppBar();
  const { segments, params } = currentRoute();
  const context = { me, config, params, signedOut };
  if (segments[0] === 'changeset' && /^\d+$/.test(segments[1] ?? '')) {
    leaveCurrentPage = renderChangeset(page, segments[1], context);
  } else if (segments[0] === 'queue') {
    leaveCurrentPage = renderQueue(page, context);
  } else {
    navigate(['queue']);
  }
}

function showSignIn() {
  replaceChildren(appBar);
  leaveCurrentPage = renderSignIn(page, {
    async onSignedIn(signedIn) {
      me = signedIn;
      config = await api.config();
      showRoute();
    },
  });
}

/** A page's call answered 401: the session ended, so sign in again and come back. */
function signedOut() {
  me = null;
  config = null;
  leaveCurrentPage?.();
  leaveCurrentPage = null;
  showSignIn();
}

function showFatal(error) {
  if (isAbort(error)) return;
  replaceChildren(page, h('p', { class: 'error', role: 'alert' }, errorText(error)));
}

function renderAppBar() {
  replaceChildren(
    appBar,
    h('a', { class: 'app-title', href: routeHash(['queue']) }, t('app.title')),
    h('nav', {}, h('a', { href: routeHash(['queue']) }, me.role === 'contributor' ? t('nav.mine') : t('nav.queue'))),
    h(
      'span',
      { class: 'who' },
      t('app.signedInAs', { user: me.user, role: label('role', me.role) }),
    ),
    h(
      'button',
      {
        type: 'button',
        id: 'sign-out',
        async onclick() {
          try {
            await api.signOut();
          } catch (error) {
            if (!isUnauthorized(error)) console.warn('geocommuns: sign-out', error);
          }
          signedOut();
        },
      },
      t('app.signOut'),
    ),
  );
}
