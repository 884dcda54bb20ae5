import type { Reply } from './harness.js';

type Get = (path: string) => Promise<Pick<Reply, 'status' | 'body'>>;

/** Every event the feed has ready from `after` on (page by page), and the cursor to continue from. */
export async function readFeedToEnd(get: Get, after = '', limit = 100): Promise<{ events: any[]; cursor: string }> {
  const events: any[] = [];
  let cursor = after;
  for (;;) {
    const reply = await get(`/v1/events?limit=${limit}${cursor ? `&after=${cursor}` : ''}`);
    if (reply.status !== 200) throw new Error(`GET /v1/events: ${reply.status} ${JSON.stringify(reply.body).slice(0, 500)}`);
    events.push(...reply.body.data);
    cursor = reply.body.next_cursor;
    if (!reply.body.has_more) return { events, cursor };
  }
}

/**
 * Reads the feed from `after` until `ready(events)` holds. On PostgreSQL an event is served once
 * every older writing transaction on the server has ended (src/modules/events/feed.ts), so a read
 * right after a write can miss it for a moment while other work runs on the shared server; this
 * reads again (continuing from its cursor, never re-reading) until the events are there.
 */
export async function readFeedUntil(get: Get, ready: (events: any[]) => boolean, after = '', limit = 100): Promise<{ events: any[]; cursor: string }> {
  const giveUpAt = Date.now() + 60_000;
  const events: any[] = [];
  let cursor = after;
  for (;;) {
    const page = await readFeedToEnd(get, cursor, limit);
    events.push(...page.events);
    cursor = page.cursor;
    if (ready(events)) return { events, cursor };
    if (Date.now() > giveUpAt) throw new Error(`the feed did not reach the expected events within 60 s (has ${events.length})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
