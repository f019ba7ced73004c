// Compiles Immutable's preset contracts (and the proxy they need) with solc-js into artifacts/<Name>.json
// ({contractName, source, abi, bytecode}). Cached: skipped when the inputs hash (lock file, this script,
// solc version) matches artifacts/.inputs-hash. Usage: node compile.mjs [--force]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

// solc is CommonJS.
const require = createRequire(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, 'node_modules');
const artifacts = join(here, 'artifacts');

// Two source trees, compiled separately so that their identically named imports never meet.
const groups = [
  {
    name: 'imtbl-3.1.1',
    root: 'imtbl3/',
    rootDir: join(modules, '@imtbl/contracts'),
    targets: [
      ['imtbl3/contracts/allowlist/OperatorAllowlistUpgradeable.sol', 'OperatorAllowlistUpgradeable'],
      ['imtbl3/contracts/token/erc721/preset/ImmutableERC721V2.sol', 'ImmutableERC721V2'],
      ['imtbl3/contracts/token/erc721/preset/ImmutableERC721MintByID.sol', 'ImmutableERC721MintByID'],
      ['imtbl3/contracts/token/erc1155/preset/ImmutableERC1155.sol', 'ImmutableERC1155'],
      ['@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol', 'ERC1967Proxy'],
    ],
  },
  {
    name: 'imtbl-2.2.18',
    root: 'imtbl2/',
    rootDir: join(modules, 'imtbl-contracts-2'),
    targets: [['imtbl2/contracts/token/erc721/preset/ImmutableERC721.sol', 'ImmutableERC721']],
  },
];

// Import prefixes used by the sources -> installed package folders (npm aliases in package.json).
const aliases = [
  ['openzeppelin-contracts-upgradeable-4.9.3/', 'oz4-upgradeable/'],
  ['openzeppelin-contracts-upgradeable-4/', 'oz4-upgradeable/'],
  ['openzeppelin-contracts-5.0.2/', 'oz5/'],
  ['openzeppelin-contracts-5/', 'oz5/'],
  ['openzeppelin-contracts-4/', 'oz4/'],
  ['@openzeppelin/contracts-upgradeable/', 'oz4-upgradeable/'],
  ['@openzeppelin/contracts/', 'oz4/'],
  ['solidity-bytes-utils/', 'solidity-bytes-utils/'],
  ['solidity-bits/', 'solidity-bits/'],
];

function resolveImport(path, group) {
  if (path.startsWith(group.root)) {
    return join(group.rootDir, path.slice(group.root.length));
  }
  for (const [prefix, target] of aliases) {
    if (path.startsWith(prefix)) {
      return join(modules, target, path.slice(prefix.length));
    }
  }
  return null;
}

function compileGroup(group) {
  const solc = require('solc');
  const sources = {};
  const selection = {};
  for (const [unit, contract] of group.targets) {
    sources[unit] = { content: readFileSync(resolveImport(unit, group), 'utf8') };
    selection[unit] = { [contract]: ['abi', 'evm.bytecode.object'] };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun', outputSelection: selection },
  };
  const findImports = (path) => {
    const file = resolveImport(path, group);
    if (file && existsSync(file)) {
      return { contents: readFileSync(file, 'utf8') };
    }
    return { error: `import not found: ${path} (no alias in tools/chain/compile.mjs maps it to an installed package)` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`${group.name}: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  return group.targets.map(([unit, contract]) => {
    const c = output.contracts?.[unit]?.[contract];
    if (!c?.evm?.bytecode?.object) {
      throw new Error(`${group.name}: no bytecode for ${contract} in ${unit}`);
    }
    return { contractName: contract, source: `${group.name}:${unit}`, abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
  });
}

function inputsHash() {
  const h = createHash('sha256');
  h.update(readFileSync(join(here, 'package-lock.json')));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(readFileSync(join(modules, 'solc/package.json')));
  return h.digest('hex');
}

async function main() {
  if (!isMainThread) {
    parentPort.postMessage(compileGroup(groups.find((g) => g.name === workerData)));
    return;
  }
  const force = process.argv.includes('--force');
  const hash = inputsHash();
  const hashFile = join(artifacts, '.inputs-hash');
  if (!force && existsSync(hashFile) && readFileSync(hashFile, 'utf8').trim() === hash) {
    console.error('contracts: up to date (artifacts/.inputs-hash matches)');
    return;
  }
  const started = Date.now();
  // One worker per source tree: the two compilations run side by side.
  const results = await Promise.all(groups.map((g) => new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: g.name });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`${g.name}: worker exited ${code}`)); });
  })));
  mkdirSync(artifacts, { recursive: true });
  for (const artifact of results.flat()) {
    const file = join(artifacts, `${artifact.contractName}.json`);
    writeFileSync(file + '.tmp', JSON.stringify(artifact, null, 1));
    renameSync(file + '.tmp', file);
  }
  writeFileSync(hashFile, hash + '\n');
  console.error(`contracts: compiled ${results.flat().length} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e.message ?? e);
  process.exit(1);
});
