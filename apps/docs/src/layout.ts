import { escapeHtml } from './html.js';

export interface NavLink {
  href: string;
  title: string;
}

const STYLE = `
:root { --fg: #1d2329; --muted: #57606a; --line: #d0d7de; --accent: #0b63ce; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, sans-serif; color: var(--fg); display: grid; grid-template-columns: 240px 1fr; min-height: 100vh; }
nav { border-right: 1px solid var(--line); padding: 1.2em; background: #f6f8fa; }
nav a { display: block; color: var(--fg); text-decoration: none; padding: 2px 0; font-size: 14px; }
nav a:hover, nav a[aria-current] { color: var(--accent); }
nav h2 { font-size: 12px; text-transform: uppercase; color: var(--muted); margin: 1.2em 0 .3em; }
main { padding: 1.5em 2.5em; max-width: 900px; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; border-radius: 6px; font-size: 13px; }
code { font-size: 90%; }
table { border-collapse: collapse; } th, td { border: 1px solid var(--line); padding: 3px 8px; }
figure { margin: 1em 0; } figure svg, figure img { max-width: 100%; height: auto; }
`;

/** The one page shell of the site: a navigation column and the page's content. */
export function page(title: string, body: string, nav: NavLink[], current: string, depth: number): string {
  const up = '../'.repeat(depth);
  const links = (group: string) =>
    nav
      .filter((l) => l.href.startsWith(group))
      .map(
        (l) =>
          `<a href="${up}${l.href}"${l.href === current ? ' aria-current="page"' : ''}>${escapeHtml(l.title)}</a>`,
      )
      .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} — gradflow</title><style>${STYLE}</style></head>
<body><nav><a href="${up}index.html"><strong>gradflow</strong></a>
<h2>Guides</h2>${links('guides/')}
<h2>Reference</h2><a href="${up}api/index.html">API reference</a>
<h2>Try it</h2><a href="${up}playground/index.html">Gradient-flow playground</a>
</nav><main>${body}</main></body></html>
`;
}
