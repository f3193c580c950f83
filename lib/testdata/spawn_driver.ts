/**
 * For lib/proc_test.ts: starts the program named by its arguments through proc.spawn(), prints
 * "started <pid>", and keeps running until it is killed (the test SIGKILLs it).
 */
import { spawn } from "../proc.ts";

const [cmd, ...args] = Deno.args;
const child = spawn(cmd, args);
console.log(`started ${child.pid}`);
setInterval(() => {}, 1000);
for await (const line of child.lines) console.log(line);
