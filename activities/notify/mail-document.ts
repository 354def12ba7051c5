/**
 * A mail body as a few kinds of blocks, rendered once as plain text and once as HTML, so both parts always say the
 * same thing and templates never write markup.
 */

/** Words that open a page: an `<a href>` in HTML, the words then `<url>` in text (RFC 3986 appendix C). */
export interface Link {
  readonly text: string;
  readonly href: string;
}
export type Inline = string | Link;
/** Text of a paragraph or a list item: plain, or with links inside. */
export type Rich = string | readonly Inline[];

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export const link = (text: string, href: string): Link => ({ text, href });

/** A template literal whose `${…}` may be links: rich`Upload them from ${link(…)}.` */
export function rich(strings: TemplateStringsArray, ...values: readonly (string | number | Link)[]): Inline[] {
  const out: Inline[] = [];
  strings.forEach((s, i) => {
    if (s !== '') out.push(s);
    const v = values[i];
    if (v !== undefined) out.push(typeof v === 'object' ? v : String(v));
  });
  return out;
}

export type Block =
  | { readonly kind: 'paragraph'; readonly text: Rich }
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly Rich[] }
  /** A page to open, on its own line: "label: url" in text, a link on the label in HTML. */
  | { readonly kind: 'link'; readonly text: string; readonly href: string }
  | { readonly kind: 'fields'; readonly rows: readonly (readonly [label: string, value: string])[] }
  /** Lines kept together, e.g. a postal address or bank details. */
  | { readonly kind: 'lines'; readonly lines: readonly string[] }
  /** Text to copy exactly (a request body, a command): kept verbatim, in a monospace font in HTML. */
  | { readonly kind: 'code'; readonly text: string };

export const paragraph = (text: Rich): Block => ({ kind: 'paragraph', text });
export const heading = (text: string): Block => ({ kind: 'heading', text });
export const list = (items: readonly Rich[]): Block => ({ kind: 'list', items });
export const action = (text: string, href: string): Block => ({ kind: 'link', text, href });

const plain = (text: Rich): string => (typeof text === 'string' ? text : text.map((i) => (typeof i === 'string' ? i : `${i.text} <${i.href}>`)).join(''));
const markup = (text: Rich): string =>
  typeof text === 'string' ? escapeHtml(text) : text.map((i) => (typeof i === 'string' ? escapeHtml(i) : `<a href="${escapeHtml(i.href)}">${escapeHtml(i.text)}</a>`)).join('');
export const fields = (rows: readonly (readonly [string, string])[]): Block => ({ kind: 'fields', rows });
export const lines = (values: readonly string[]): Block => ({ kind: 'lines', lines: values });
export const code = (text: string): Block => ({ kind: 'code', text });

export function toText(blocks: readonly Block[], lang: 'fr' | 'en'): string {
  // French typography puts a space before the colon, English does not.
  const colon = lang === 'fr' ? ' : ' : ': ';
  return (
    blocks
      .map((b) => {
        switch (b.kind) {
          case 'paragraph':
            return plain(b.text);
          case 'heading':
            return `${b.text}\n${'-'.repeat(b.text.length)}`;
          case 'list':
            return b.items.map((i) => `  - ${plain(i)}`).join('\n');
          case 'link':
            return `${b.text}${colon}${b.href}`;
          case 'fields':
            return b.rows.map(([label, value]) => `${label}${colon}${value}`).join('\n');
          case 'lines':
            return b.lines.map((l) => `    ${l}`).join('\n');
          case 'code':
            return b.text
              .split('\n')
              .map((l) => `    ${l}`)
              .join('\n');
        }
      })
      .join('\n\n') + '\n'
  );
}


export function toHtml(blocks: readonly Block[], title: string, lang: 'fr' | 'en'): string {
  const body = blocks
    .map((b) => {
      switch (b.kind) {
        case 'paragraph':
          return `<p>${markup(b.text)}</p>`;
        case 'heading':
          return `<h3 style="margin:1.2em 0 0.4em">${escapeHtml(b.text)}</h3>`;
        case 'list':
          return `<ul>${b.items.map((i) => `<li>${markup(i)}</li>`).join('')}</ul>`;
        case 'link':
          return `<p><a href="${escapeHtml(b.href)}" style="font-weight:bold">${escapeHtml(b.text)}</a></p>`;
        case 'fields':
          return `<table style="border-collapse:collapse">${b.rows
            .map(([l, v]) => `<tr><td style="padding:2px 12px 2px 0;color:#555">${escapeHtml(l)}</td><td style="padding:2px 0">${escapeHtml(v)}</td></tr>`)
            .join('')}</table>`;
        case 'lines':
          return `<p style="margin-left:1.5em">${b.lines.map(escapeHtml).join('<br>')}</p>`;
        case 'code':
          // pre-wrap and break-all wrap a long JSON line on screen; a copy still gets the exact text.
          return `<pre style="margin:0.6em 0 0.6em 1.5em;padding:8px 10px;background:#f4f4f4;white-space:pre-wrap;word-break:break-all;font-family:Consolas,Menlo,monospace;font-size:13px">${escapeHtml(b.text)}</pre>`;
      }
    })
    .join('\n');
  return `<!doctype html>\n<html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.45;color:#222;max-width:640px">\n${body}\n</body></html>\n`;
}
