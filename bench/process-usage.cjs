// Preloaded into a benchmark child (`node -r bench/process-usage.cjs ...` with PROCESS_USAGE_FILE set):
// at exit it writes the whole process's peak RSS and CPU time as one JSON line to that file, so a
// benchmark can measure a real CLI run without changing it.
const { writeFileSync } = require('node:fs');

const file = process.env.PROCESS_USAGE_FILE;
if (file) {
  process.once('exit', () => {
    const cpu = process.cpuUsage();
    writeFileSync(
      file,
      `${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
    );
  });
}
