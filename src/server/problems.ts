/**
 * 400 answers list what was wrong, one line per problem. A body of 10,000 bad rescans has hundreds of
 * thousands of problems: the answer keeps the first MAX_LISTED and says how many there were in all.
 */
export const MAX_LISTED_PROBLEMS = 100;

export interface ProblemList {
  /** The first MAX_LISTED_PROBLEMS problems, then a line saying how many more there were. */
  problems: string[];
  /** How many problems there were in all. */
  problemCount: number;
}

export function capProblems(all: readonly string[]): ProblemList {
  if (all.length <= MAX_LISTED_PROBLEMS) return { problems: [...all], problemCount: all.length };
  return {
    problems: [...all.slice(0, MAX_LISTED_PROBLEMS), `... and ${all.length - MAX_LISTED_PROBLEMS} more problems`],
    problemCount: all.length,
  };
}
