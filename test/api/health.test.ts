import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, expectProblem, expectStatus, startTestApp } from '../helpers/harness.js';

test('/health is liveness; /health/ready checks the database and answers 503 problem+json when it is gone', async () => {
  const t = await startTestApp();
  const anonymous = new Client(t.app, null);
  try {
    assert.equal(expectStatus(await anonymous.get('/health'), 200).status, 'ok');
    assert.equal(expectStatus(await anonymous.get('/health/ready'), 200).status, 'ready');
    await t.database.close();
    const down = expectProblem(await anonymous.get('/health/ready'), 503, 'service-unavailable');
    assert.doesNotMatch(JSON.stringify(down), /SELECT|sqlite|pool/i);
    assert.equal(expectStatus(await anonymous.get('/health'), 200).status, 'ok', 'the process itself is alive');
  } finally {
    await t.app.close();
    await t.testDb.drop();
  }
});
