import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { table } from "./output";

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
