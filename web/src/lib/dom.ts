// A small, typed DOM builder: h('button', { type: 'button', on: { click } }, 'Save').
// Attributes are set as attributes (so aria-*, role and for work as in HTML);
// true sets an empty attribute, false/null/undefined leave it out. Text is
// always a text node, never HTML, so nothing the server sends can become markup.

export type Child = Node | string | number | null | undefined | false | Child[];
export type Listeners = { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
export type AttrValue = string | number | boolean | null | undefined;
export interface Props {
  on?: Listeners;
  [attribute: string]: AttrValue | Listeners;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (name === 'on') {
        for (const [type, fn] of Object.entries(value as Listeners)) {
          if (fn) el.addEventListener(type, fn as EventListener);
        }
        continue;
      }
      setAttr(el, name, value as AttrValue);
    }
  }
  append(el, children);
  return el;
}

export function setAttr(el: Element, name: string, value: AttrValue): void {
  if (value === false || value === null || value === undefined) {
    el.removeAttribute(name);
  } else {
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) {
      append(parent, c);
    } else if (c instanceof Node) {
      parent.appendChild(c);
    } else {
      parent.appendChild(document.createTextNode(String(c)));
    }
  }
}

// Replaces an element's children.
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;
// A document-unique id for label/for, aria-controls and aria-describedby.
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// Announces text to screen readers through the shell's polite live region.
export function announce(text: string): void {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  window.setTimeout(() => {
    region.textContent = text;
  }, 30);
}

export function formatTime(rfc3339: string | null | undefined): string {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export function formatDate(rfc3339: string | null | undefined): string {
  if (!rfc3339) return '';
  return rfc3339.slice(0, 10);
}

export function formatMoney(amount: number, currency = 'EUR'): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}
