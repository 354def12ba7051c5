/**
 * A mail body as a few kinds of blocks, rendered once as plain text and once as HTML, so both parts always say the
 * same thing and templates never write markup.
 */
export type Block =
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | { readonly kind: 'fields'; readonly rows: readonly (readonly [label: string, value: string])[] }
  /** Lines kept together, e.g. a postal address or bank details. */
  | { readonly kind: 'lines'; readonly lines: readonly string[] }
  /** Text to copy exactly (a request body, a command): kept verbatim, in a monospace font in HTML. */
  | { readonly kind: 'code'; readonly text: string };

export const paragraph = (text: string): Block => ({ kind: 'paragraph', text });
export const heading = (text: string): Block => ({ kind: 'heading', text });
export const list = (items: readonly string[]): Block => ({ kind: 'list', items });
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
            return b.text;
          case 'heading':
            return `${b.text}\n${'-'.repeat(b.text.length)}`;
          case 'list':
            return b.items.map((i) => `  - ${i}`).join('\n');
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

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export function toHtml(blocks: readonly Block[], title: string, lang: 'fr' | 'en'): string {
  const body = blocks
    .map((b) => {
      switch (b.kind) {
        case 'paragraph':
          return `<p>${escapeHtml(b.text)}</p>`;
        case 'heading':
          return `<h3 style="margin:1.2em 0 0.4em">${escapeHtml(b.text)}</h3>`;
        case 'list':
          return `<ul>${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
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
