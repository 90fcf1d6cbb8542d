import { t } from './i18n.js';

// Statuses whose meaning the page can say in the reader's language; for the
// others (400 above all) the server's English message is the useful part.
const translatedStatuses = new Set([0, 401, 403, 404, 409, 413, 500, 502, 503]);

/** What to tell the reader about a failed call. */
export function errorText(error) {
  if (error?.name === 'ApiError') {
    if (translatedStatuses.has(error.status)) return t(`error.status.${error.status}`);
    return error.serverMessage || t('error.unknown');
  }
  return error?.message || t('error.unknown');
}

export function isUnauthorized(error) {
  return error?.name === 'ApiError' && error.status === 401;
}

export function isAbort(error) {
  return error?.name === 'AbortError';
}
