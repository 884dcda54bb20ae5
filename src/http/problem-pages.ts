import type { App } from '../core/app.js';
import { AppError, isProblemType, problemTypes, problemTypeUri, type ProblemType } from '../shared/errors.js';

/**
 * `GET /problems` and `GET /problems/{slug}`: the pages problem `type` URIs point at, served by
 * the service itself so every type resolves wherever Folio runs. HTML for people, JSON for code
 * (`Accept: application/json`). Public: an error page must be readable without a key.
 */
export function registerProblemPages(app: App) {
  app.get('/problems', { schema: { hide: true } }, async (request, reply) => {
    const entries = (Object.keys(problemTypes) as ProblemType[]).map(describe);
    if (wantsJson(request.headers.accept)) return { object: 'list', data: entries };
    const rows = entries
      .map((entry) => `<tr><td><a href="${entry.type}"><code>${entry.slug}</code></a></td><td>${entry.status}</td><td>${escapeHtml(entry.title)}</td></tr>`)
      .join('\n');
    return reply.type('text/html; charset=utf-8').send(page('Folio problem types', `<p>Every error Folio answers is an RFC 9457 problem whose <code>type</code> is one of these.</p>\n<table><thead><tr><th>type</th><th>status</th><th>title</th></tr></thead><tbody>\n${rows}\n</tbody></table>`));
  });

  app.get<{ Params: { slug: string } }>('/problems/:slug', { schema: { hide: true } }, async (request, reply) => {
    const { slug } = request.params;
    if (!isProblemType(slug)) throw new AppError('not-found', `No problem type "${slug.slice(0, 80)}"; GET /problems lists them all.`);
    const entry = describe(slug);
    if (wantsJson(request.headers.accept)) return entry;
    const ruleNote = entry.status === 422 ? `<p>This is a business rule: the answer also carries <code>"rule": "${slug}"</code>.</p>` : '';
    return reply.type('text/html; charset=utf-8').send(
      page(`${slug} — Folio`, `<p><code>type: "${entry.type}"</code> · HTTP ${entry.status}</p>\n<h2>${escapeHtml(entry.title)}</h2>\n<p>${formatHint(entry.hint)}</p>\n${ruleNote}<p><a href="/problems">All problem types</a></p>`),
    );
  });
}

function describe(slug: ProblemType) {
  const { status, title, hint } = problemTypes[slug];
  return { type: problemTypeUri(slug), slug, status, title, hint };
}

function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && /application\/(problem\+)?json/i.test(accept) && !/text\/html/i.test(accept);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Hints use `code` spans; everything else is escaped. */
const formatHint = (hint: string) => escapeHtml(hint).replace(/`([^`]+)`/g, '<code>$1</code>');

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}td,th{text-align:left;padding:.2rem .8rem .2rem 0}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
