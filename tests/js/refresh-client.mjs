// Drives OpenMint's Metadata Refresh API with Immutable's unmodified @imtbl/core-sdk client (the wire contract: docs/api.md).
// Env: OPENMINT_URL, OWNER_KEY (0x private key of the project owner), COLLECTION_ADDRESS,
//      TOKEN_IDS (comma separated), EXPECT_SUCCEEDED, EXPECT_FAILED, UNKNOWN_TOKEN_ID (expected token_not_found).
// Prints one JSON line with what it saw; exits 0 only when every check passed.

// @imtbl packages load a telemetry module that keeps Node alive unless this is set before loading.
process.env.JEST_WORKER_ID = '1';

const { ImmutableX, Config } = await import('@imtbl/core-sdk');
const { Wallet } = await import('ethers');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`missing env ${name}`);
  return v;
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function main() {
  const basePath = need('OPENMINT_URL').replace(/\/$/, '');
  const signer = new Wallet(need('OWNER_KEY'));
  const collection = need('COLLECTION_ADDRESS');
  const tokenIds = need('TOKEN_IDS').split(',');
  const expectSucceeded = Number(need('EXPECT_SUCCEEDED'));
  const expectFailed = Number(need('EXPECT_FAILED'));
  const unknownTokenId = need('UNKNOWN_TOKEN_ID');

  const client = new ImmutableX(Config.createConfig({
    basePath,
    chainID: 5,
    coreContractAddress: '0x7917eDb51ecD6CdB3F9854c3cc593F33de10c623',
    registrationContractAddress: '0x1C97Ada273C9A52253f463042f29117090Cd7D83',
  }));

  const created = await client.createMetadataRefresh(signer, { collection_address: collection, token_ids: tokenIds });
  check(typeof created.refresh_id === 'string' && created.refresh_id.length === 36, `refresh_id ${JSON.stringify(created)}`);

  let status;
  const deadline = Date.now() + 60_000;
  do {
    status = await client.getMetadataRefreshResults(signer, created.refresh_id);
    const s = status.summary;
    check(s.succeeded + s.failed + s.pending === tokenIds.length, `summary adds up ${JSON.stringify(status)}`);
    if (status.status === 'completed') break;
    check(Date.now() < deadline, `refresh did not complete ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 200));
  } while (true);
  check(status.refresh_id === created.refresh_id, 'status refresh_id');
  check(status.collection_address === collection.toLowerCase(), 'status collection_address');
  check(status.summary.succeeded === expectSucceeded, `succeeded ${status.summary.succeeded}`);
  check(status.summary.failed === expectFailed, `failed ${status.summary.failed}`);
  check(typeof status.started_at === 'string' && typeof status.completed_at === 'string', 'timestamps');

  // Errors, one per page, following cursors.
  const errors = [];
  let cursor;
  for (let i = 0; i < 100; i++) {
    const page = await client.getMetadataRefreshErrors(signer, created.refresh_id, 1, cursor);
    errors.push(...page.result);
    if (page.remaining === 0) break;
    cursor = page.cursor;
  }
  check(errors.length === expectFailed, `errors ${errors.length}`);
  const unknown = errors.find((e) => e.token_id === unknownTokenId);
  check(unknown && unknown.error_code === 'token_not_found', `token_not_found for ${unknownTokenId}: ${JSON.stringify(errors)}`);

  const list = await client.listMetadataRefreshes(signer, collection, 10);
  check(list.result.length >= 1 && list.result[0].refresh_id === created.refresh_id, `list newest first ${JSON.stringify(list)}`);
  check(list.result[0].status === 'completed', 'list status');

  console.log(JSON.stringify({ ok: true, refresh_id: created.refresh_id, summary: status.summary, errors: errors.map((e) => [e.token_id, e.error_code]) }));
}

try {
  await main();
  process.exit(0);
} catch (err) {
  const detail = err && err.response ? { status: err.response.status, data: err.response.data } : undefined;
  console.log(JSON.stringify({ ok: false, error: String(err && err.message ? err.message : err), detail, code: err && err.code }));
  process.exit(1);
}
