// The benchmark peer: one G1 MSM through ffjavascript (the engine inside snarkjs), on the same
// bytes our prover uses. Run by scripts/bench_kernels.py; prints one JSON object on stdout.
//
//   node scripts/ffjs_msm.mjs POINTS.bin SCALARS.bin [--repeats K] [--warmup-points M]
//
// POINTS.bin: n affine G1 points, x then y, 32-byte little-endian Montgomery form (R = 2^256);
// this is the layout of our (n, 2, 4) uint64 arrays and of snarkjs .zkey sections.
// SCALARS.bin: n scalars, 32-byte little-endian standard form, each below r.
// Timed: G1.multiExpAffine only (not node start-up, curve building or file reading). ffjavascript
// spreads the MSM over worker threads, one per CPU (os.cpus()), so it uses every core.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { buildBn128 } from "ffjavascript";

const POINT_BYTES = 64;
const SCALAR_BYTES = 32;

function parseArgs(argv) {
    const options = { repeats: 1, warmupPoints: 1024, files: [] };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--repeats") options.repeats = Number(argv[++i]);
        else if (argv[i] === "--warmup-points") options.warmupPoints = Number(argv[++i]);
        else options.files.push(argv[i]);
    }
    if (options.files.length !== 2 || !(options.repeats >= 1) || !(options.warmupPoints >= 0)) {
        throw new Error("usage: ffjs_msm.mjs POINTS.bin SCALARS.bin [--repeats K] [--warmup-points M]");
    }
    return options;
}

// A fresh Uint8Array that owns its ArrayBuffer (a Buffer from readFileSync may share a pool).
function readBytes(path) {
    const file = readFileSync(path);
    const bytes = new Uint8Array(file.byteLength);
    bytes.set(file);
    return bytes;
}

function ffjavascriptVersion() {
    const require = createRequire(import.meta.url);
    const marker = "/node_modules/ffjavascript/";
    const entry = require.resolve("ffjavascript");
    const root = entry.slice(0, entry.lastIndexOf(marker) + marker.length);
    return JSON.parse(readFileSync(root + "package.json", "utf8")).version;
}

async function main() {
    const options = parseArgs(process.argv.slice(2));
    const points = readBytes(options.files[0]);
    const scalars = readBytes(options.files[1]);
    const n = points.byteLength / POINT_BYTES;
    if (!Number.isInteger(n) || scalars.byteLength !== n * SCALAR_BYTES) {
        throw new Error(`${points.byteLength} point bytes do not match ${scalars.byteLength} scalar bytes`);
    }

    const bn128 = await buildBn128();
    const G1 = bn128.G1;
    try {
        // The workers compile and tier up their wasm on first use: keep that out of the figure.
        const warm = Math.min(n, options.warmupPoints);
        if (warm > 0) {
            await G1.multiExpAffine(points.slice(0, warm * POINT_BYTES), scalars.slice(0, warm * SCALAR_BYTES));
        }
        const seconds = [];
        let result;
        for (let i = 0; i < options.repeats; i++) {
            const start = performance.now();
            result = await G1.multiExpAffine(points, scalars);
            seconds.push((performance.now() - start) / 1000);
        }
        const affine = G1.toAffine(result);
        const [x, y] = G1.toObject(affine);
        process.stdout.write(JSON.stringify({
            n,
            seconds,
            best_s: Math.min(...seconds),
            result: G1.isZero(affine) ? null : [x.toString(), y.toString()],
            threads: bn128.tm.concurrency,
            ffjavascript: ffjavascriptVersion(),
            node: process.version,
        }) + "\n");
    } finally {
        await bn128.terminate();
    }
}

main().catch((error) => {
    process.stderr.write(`ffjs_msm: ${error.stack || error}\n`);
    process.exit(1);
});
