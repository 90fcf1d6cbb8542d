// Building elements in code keeps every text going through textContent, so
// names, comments and tag values from the server can never inject markup.

/**
 * Creates an element. Attributes: "class", "dataset" (an object), "style" (an
 * object of CSS properties, custom ones included, set through the CSSOM: the
 * pages' Content-Security-Policy refuses style attributes), "on<event>"
 * (a listener), DOM properties listed in domProperties, the rest as attributes;
 * null, undefined and false attributes are left out. Children are nodes or text.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') {
      element.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'style') {
      for (const [property, v] of Object.entries(value)) element.style.setProperty(property, v);
    } else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (domProperties.has(name)) {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  appendChildren(element, children);
  return element;
}

const domProperties = new Set(['value', 'checked', 'disabled', 'selected']);

function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces everything inside element with children. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  appendChildren(element, children);
}

/**
 * Whether a key press belongs to a text field rather than to the page's
 * shortcuts: checkboxes and buttons leave letters to the page, so a reviewer can
 * tick elements and then press p.
 */
export function isTypingTarget(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
}

/** Whether a key press carries a modifier that makes it someone else's shortcut. */
export function hasCommandModifier(event) {
  return event.ctrlKey || event.metaKey || event.altKey;
}
