// Pieces the pages share: elements, cards, and series drawn from the history.
import { format } from '../chart.js';

/** An element with attributes and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}

/** A row of labelled figures; returns set(label, value) to change one. */
export function cards(container, labels) {
  const values = new Map();
  const row = h('div', { class: 'cards' });
  for (const label of labels) {
    const value = h('div', { class: 'value', 'data-card': label }, '–');
    values.set(label, value);
    row.append(h('div', { class: 'card' }, h('div', { class: 'label' }, label), value));
  }
  container.append(row);
  return (label, text) => { values.get(label).textContent = text; };
}

/** A series of [time, value] from each snapshot of the history. */
export function series(history, pick) {
  return history.map(snapshot => [snapshot.time, pick(snapshot) ?? null]);
}

export const ms = value => format(value, 'ms');
export const perSecond = value => format(value, '/s');
export const bytes = value => format(value, 'B');
