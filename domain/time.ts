/** A day in milliseconds: calendar days are counted in UTC across the project, so a day is always this long. */
export const DAY_MS = 86_400_000;
