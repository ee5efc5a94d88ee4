import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { ACTIVE_CHARACTER, inert, jsonText, table } from "./output";
import { runOps } from "./program";

describe("table", () => {
  const names = [
    "Honey Glazed",
    "부산도너츠",
    // The same name as macOS file names and some keyboards produce it: decomposed jamo (NFD).
    "부산도너츠".normalize("NFD"),
    "☕ 라떼 도넛",
    "🍩 딸기 도넛",
    "Ｗｉｄｅ Ｌａｔｉｎ",
    "Crème brûlée".normalize("NFD"),
  ];

  it("lines Korean, decomposed, emoji and full-width names up with the columns after them", () => {
    const rendered = table(
      names.map((name, index) => ({ name, stock: index * 7 })),
      [
        { header: "NAME", value: (row) => row.name },
        { header: "STOCK", value: (row) => row.stock, align: "right" },
      ],
    );
    // STOCK is right-aligned: when every name is padded to the same display width, every line
    // ends in the same terminal column.
    const ends = rendered.split("\n").map((line) => stringWidth(line));
    expect(new Set(ends), rendered).toEqual(new Set([ends[0]]));
  });

  it("cuts long names at their display width, with an ellipsis", () => {
    const rendered = table(
      [{ name: "부산도너츠 특별 한정판 세트" }, { name: "abc" }],
      [{ header: "NAME", value: (row) => row.name, maxWidth: 10 }],
    );
    const [, , long, short] = rendered.split("\n");
    expect(long).toBe("부산도너…");
    expect(stringWidth(long)).toBeLessThanOrEqual(10);
    expect(short).toBe("abc");
  });
});

/** Anything a terminal would act on rather than print (newline aside): C0 controls, DEL, C1 controls, the bidirectional overrides. */
const ACTIVE = ACTIVE_CHARACTER;

describe("what the CLI prints is inert", () => {
  const hostile = [
    "hidden \u001b[8msecret\u001b[0m text", // ESC[8m conceals what follows
    "title \u001b]0;pwned\u0007 set", // OSC: the window title
    "link \u001b]8;;http://evil.example\u001b\\click\u001b]8;;\u001b\\ here", // OSC 8 hyperlink, ST-terminated
    "c1 \u009b2J cleared", // the 8-bit CSI: clear screen
    "over\rwrite",
    "back\b\b\bspace",
    "bell\u0007 and nul\u0000",
    "two\nlines\tand a tab",
    "rtl \u202eevil\u202c end",
  ];

  it("strips escape sequences and control characters from every table cell, keeping the text", () => {
    const rendered = table(
      hostile.map((text) => ({ text })),
      [{ header: "LAST ERROR", value: (row) => row.text }],
    );
    const rows = rendered.split("\n");
    expect(rows).toHaveLength(hostile.length + 2); // a cell never adds a line
    for (const row of rows) expect(row).not.toMatch(ACTIVE);
    expect(rows.slice(2)).toEqual([
      "hidden secret text",
      "title set",
      "link click here",
      "c1 cleared",
      "over write",
      "backspace",
      "bell and nul",
      "two lines and a tab",
      "rtl evil end",
    ]);
  });

  it("keeps a message's line breaks and strips the rest; JSON keeps every character, escaped", () => {
    expect(inert("moved 3\u001b[2K\nfailed 0\u009b1A\r")).toBe("moved 3\nfailed 0");
    const value = { lastError: hostile.join(" | ") };
    const json = jsonText(value);
    expect(json.replace(/\n/g, "")).not.toMatch(ACTIVE);
    expect(JSON.parse(json)).toEqual(value);
  });

  it("filters whatever goes through the CLI's output, help and errors included", async () => {
    const printed: string[] = [];
    const io = { out: (text: string) => printed.push(text), err: (text: string) => printed.push(text) };
    // An argument the CLI echoes back in its usage error (JSON.stringify would leave the 8-bit CSI raw).
    await runOps(["stock", "set", "CP-1\u009b8m hidden", "5", "--expect", "5", "--reason", "x"], { io, env: {} });
    expect(printed.join("\n")).toContain('Invalid SKU "CP-1 hidden"');
    for (const text of printed) expect(text.replace(/\n/g, "")).not.toMatch(ACTIVE);
  });
});
