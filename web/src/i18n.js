import en from './i18n/en.json';
import fr from './i18n/fr.json';

const catalogs = { en, fr };

/**
 * The first of the browser's languages that we have a catalog for decides, so a
 * reader who prefers German then French gets French; English otherwise.
 */
export function chooseLanguage(preferred) {
  for (const tag of preferred ?? []) {
    const primary = String(tag).toLowerCase().split('-')[0];
    if (primary in catalogs) return primary;
  }
  return 'en';
}

export const language = chooseLanguage(
  navigator.languages?.length ? navigator.languages : [navigator.language],
);
const catalog = catalogs[language];
const pluralRules = new Intl.PluralRules(language);
const dateFormat = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
const numberFormat = new Intl.NumberFormat(language);

/** Sets <html lang> and the title, which index.html cannot know. */
export function applyDocumentLanguage() {
  document.documentElement.lang = language;
  document.title = t('app.title');
}

/** The catalog's text for key, with {name} placeholders filled from params. */
export function t(key, params = {}) {
  const text = catalog[key];
  if (text === undefined) {
    console.warn(`geocommuns: no "${key}" in the ${language} catalog`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (placeholder, name) =>
    name in params ? formatParam(params[name]) : placeholder,
  );
}

function formatParam(value) {
  return typeof value === 'number' ? numberFormat.format(value) : String(value);
}

/** The plural form of key (key.one, key.other, …) that count calls for. */
export function tn(key, count, params = {}) {
  const form = `${key}.${pluralRules.select(count)}`;
  return t(form in catalog ? form : `${key}.other`, { count, ...params });
}

/**
 * The label of a value the server sends (a state, an event kind, a severity):
 * its translation when the catalog has one, else the value itself, since the
 * server may know values newer than this page.
 */
export function label(prefix, value) {
  const key = `${prefix}.${value}`;
  return key in catalog ? catalog[key] : String(value);
}

export function formatTime(rfc3339) {
  if (!rfc3339) return '';
  const time = new Date(rfc3339);
  return Number.isNaN(time.getTime()) ? String(rfc3339) : dateFormat.format(time);
}

export function formatNumber(value) {
  return numberFormat.format(value);
}
