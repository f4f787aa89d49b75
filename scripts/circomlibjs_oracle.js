#!/usr/bin/env node
// Test oracle: answers a batch of requests with circomlibjs 0.1.7 (and npm blake-hash), so Python tests
// pay node's start-up once per batch. Reads {"requests": [...]} on stdin, writes a JSON array of answers,
// one per request, in order. Integers travel as decimal strings, bytes as hex.
//
//   {"op": "poseidon", "inputs": ["1", "2"]}                        -> "785320..."
//   {"op": "poseidonEx", "inputs": [...], "initState": "0", "nOut": 2} -> ["...", "..."]
//   {"op": "blake512", "data": "00ff"}                               -> hex digest
//   {"op": "addPoint", "p": [x, y], "q": [x, y]}                     -> [x, y]
//   {"op": "mulPointEscalar", "p": [x, y], "k": "5"}                 -> [x, y]
//   {"op": "inCurve" | "inSubgroup", "p": [x, y]}                    -> bool
//   {"op": "packPoint", "p": [x, y]}                                 -> hex
//   {"op": "unpackPoint", "data": hex}                               -> [x, y] or null
//   {"op": "prv2pub", "prv": hex}                                    -> [x, y]
//   {"op": "signPoseidon", "prv": hex, "msg": "7"}                   -> {"R8": [x, y], "S": "..."}
//   {"op": "verifyPoseidon", "msg": "7", "R8": [x, y], "S": "...", "A": [x, y]} -> bool
//   {"op": "constants"}                                              -> {"Generator", "Base8", "subOrder", "order"}
"use strict";

async function main() {
    const { buildPoseidon, buildBabyjub, buildEddsa } = await import("circomlibjs");
    const createBlakeHash = require("blake-hash");

    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const { requests } = JSON.parse(Buffer.concat(chunks).toString("utf8"));

    const poseidon = await buildPoseidon();
    const babyJub = await buildBabyjub();
    const eddsa = await buildEddsa();
    const F = babyJub.F;

    const toPoint = (p) => [F.e(BigInt(p[0])), F.e(BigInt(p[1]))];
    const fromPoint = (p) => [F.toObject(p[0]).toString(), F.toObject(p[1]).toString()];
    const hex = (b) => Buffer.from(b).toString("hex");

    const answer = (req) => {
        switch (req.op) {
            case "poseidon":
                return poseidon.F.toObject(poseidon(req.inputs.map(BigInt))).toString();
            case "poseidonEx": {
                const out = poseidon(req.inputs.map(BigInt), BigInt(req.initState), req.nOut);
                return (req.nOut === 1 ? [out] : out).map((x) => poseidon.F.toObject(x).toString());
            }
            case "blake512":
                return createBlakeHash("blake512").update(Buffer.from(req.data, "hex")).digest("hex");
            case "addPoint":
                return fromPoint(babyJub.addPoint(toPoint(req.p), toPoint(req.q)));
            case "mulPointEscalar":
                return fromPoint(babyJub.mulPointEscalar(toPoint(req.p), BigInt(req.k)));
            case "inCurve":
                return babyJub.inCurve(toPoint(req.p));
            case "inSubgroup":
                return babyJub.inSubgroup(toPoint(req.p));
            case "packPoint":
                return hex(babyJub.packPoint(toPoint(req.p)));
            case "unpackPoint": {
                const p = babyJub.unpackPoint(Uint8Array.from(Buffer.from(req.data, "hex")));
                return p === null ? null : fromPoint(p);
            }
            case "prv2pub":
                return fromPoint(eddsa.prv2pub(Buffer.from(req.prv, "hex")));
            case "signPoseidon": {
                const sig = eddsa.signPoseidon(Buffer.from(req.prv, "hex"), F.e(BigInt(req.msg)));
                return { R8: fromPoint(sig.R8), S: sig.S.toString() };
            }
            case "verifyPoseidon":
                return eddsa.verifyPoseidon(
                    F.e(BigInt(req.msg)),
                    { R8: toPoint(req.R8), S: BigInt(req.S) },
                    toPoint(req.A),
                );
            case "constants":
                return {
                    Generator: fromPoint(babyJub.Generator),
                    Base8: fromPoint(babyJub.Base8),
                    subOrder: babyJub.subOrder.toString(),
                    order: babyJub.order.toString(),
                };
            default:
                throw new Error(`unknown op ${req.op}`);
        }
    };

    process.stdout.write(JSON.stringify(requests.map(answer)));
}

main().then(
    () => process.exit(0),
    (err) => {
        process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
        process.exit(1);
    },
);
