// Compile Solidity with solc-js (npm `solc`, pinned in package-lock.json): Standard JSON in on stdin,
// Standard JSON out on stdout (https://docs.soliditylang.org/en/latest/using-the-compiler.html).
// Called by verifier/solc.py; the product's only other use of Node is anvil, the local L1.
const solc = require("solc");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  process.stdout.write(solc.compile(input));
  process.stdout.write("\n");
});
