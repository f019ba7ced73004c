// Drives OpenMint's Minting API with Immutable's unmodified @imtbl/blockchain-data client (the wire contract: docs/api.md).
// Usage: node tests/js/minting-client.mjs <baseUrl> <apiKey> <chainName> <erc721ContractAddress>
// Creates, gets and lists mint requests, checks a 409 and a 404 come back as the client's APIError,
// prints one JSON line with what it saw, and exits 0 only when every check passed.

// @imtbl/config loads a telemetry module that keeps Node alive unless this is set before loading.
process.env.JEST_WORKER_ID = '1';

const { BlockchainData } = await import('@imtbl/blockchain-data');
const { ImmutableConfiguration, Environment } = await import('@imtbl/config');

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function expectApiError(promise, status, code, messageStart) {
  try {
    await promise;
  } catch (err) {
    check(err.code === code, `expected error code ${code}, got ${err.code} (${err.message})`);
    check(err.message.startsWith(messageStart), `expected message starting "${messageStart}", got "${err.message}"`);
    return err;
  }
  throw new Error(`check failed: expected ${status} ${code}, the call succeeded`);
}

async function main() {
  const [baseUrl, apiKey, chainName, contractAddress] = process.argv.slice(2);
  if (!contractAddress) throw new Error('usage: node minting-client.mjs <baseUrl> <apiKey> <chainName> <contractAddress>');

  const client = new BlockchainData({
    baseConfig: new ImmutableConfiguration({ environment: Environment.SANDBOX }),
    overrides: { basePath: baseUrl.replace(/\/$/, ''), headers: { 'x-immutable-api-key': apiKey } },
  });

  const run = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  // A slash and a space in the reference id: the client sends them URL-encoded (%2F, %20).
  const refA = `js ${run}/a`;
  const refB = `js-${run}-b`;
  const tokenId = String(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)));
  const owner = '0xAbCdEf0123456789aBcDeF0123456789abcdef01';

  const created = await client.createMintRequest({
    chainName,
    contractAddress,
    createMintRequestRequest: {
      assets: [
        { reference_id: refA, owner_address: owner, metadata: { name: 'Sword', attributes: [{ trait_type: 'power', value: 9 }] } },
        { reference_id: refB, owner_address: owner, token_id: tokenId, metadata: null },
      ],
    },
  });
  for (const field of ['imx_mint_requests_limit', 'imx_mint_requests_limit_reset', 'imx_remaining_mint_requests', 'imx_mint_requests_retry_after']) {
    check(typeof created[field] === 'string', `create response lacks ${field}: ${JSON.stringify(created)}`);
  }

  const got = await client.getMintRequest({ chainName, contractAddress, referenceId: refA });
  check(got.result.length === 1, `get returned ${got.result.length} results`);
  const a = got.result[0];
  check(a.reference_id === refA, `get returned reference_id ${a.reference_id}`);
  check(a.status === 'pending', `status ${a.status}`);
  check(a.owner_address === owner.toLowerCase(), `owner ${a.owner_address}`);
  check(a.collection_address === contractAddress.toLowerCase(), `collection ${a.collection_address}`);
  check(a.token_id === null && a.error === null, `token_id/error ${a.token_id}/${JSON.stringify(a.error)}`);

  // Newest first, one per page, following next_cursor.
  const first = await client.listMintRequests({ chainName, contractAddress, pageSize: 1, status: 'pending' });
  check(first.result.length === 1 && first.result[0].reference_id === refB, `first page ${JSON.stringify(first.result.map((r) => r.reference_id))}`);
  check(first.page.next_cursor, 'first page has no next_cursor');
  const second = await client.listMintRequests({ chainName, contractAddress, pageSize: 1, pageCursor: first.page.next_cursor });
  check(second.result.length === 1 && second.result[0].reference_id === refA, `second page ${JSON.stringify(second.result.map((r) => r.reference_id))}`);
  check(second.result[0].token_id === null, 'by-quantity request has a token id before minting');
  const byB = await client.getMintRequest({ chainName, contractAddress, referenceId: refB });
  check(byB.result[0].token_id === tokenId, `token id ${byB.result[0].token_id}`);

  const conflict = await expectApiError(
    client.createMintRequest({ chainName, contractAddress, createMintRequestRequest: { assets: [{ reference_id: refB, owner_address: owner }] } }),
    409, 'CONFLICT_ERROR', 'there are already mint requests for reference_ids:');
  check(conflict.details && conflict.details.id === 'reference_id' && conflict.details.values[0] === refB, `details ${JSON.stringify(conflict.details)}`);
  await expectApiError(client.getMintRequest({ chainName, contractAddress, referenceId: `missing-${run}` }), 404, 'RESOURCE_NOT_FOUND', '');

  console.log(JSON.stringify({
    ok: true,
    created,
    got: a.reference_id,
    listed: [first.result[0].reference_id, second.result[0].reference_id],
    conflict: conflict.code,
  }));
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err && err.stack ? err.stack : String(err));
  console.log(JSON.stringify({ ok: false, error: String(err && err.message ? err.message : err) }));
  process.exit(1);
}
