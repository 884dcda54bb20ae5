import { AppError } from '../shared/errors.js';

/** Cursors are opaque to clients: base64url of the last id seen. */
export const encodeCursor = (lastId: string) => Buffer.from(lastId, 'utf8').toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,4}_[0-9a-z]{1,40}$/.test(decoded)) {
    throw new AppError('validation-error', 'The cursor is not one this API returned.', {
      errors: [{ pointer: '/query/cursor', detail: 'invalid cursor' }],
    });
  }
  return decoded;
}

export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  return { object: 'list', data, has_more: hasMore, next_cursor: hasMore ? encodeCursor(data[data.length - 1].id) : null };
}
