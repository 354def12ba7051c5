/** What the server hands each page's script (a JSON island in the page), typed for both sides. */
import type { PageId } from '../../domain/pages.js';
import type { Role } from '../../domain/roles.js';
import type { Lang } from './i18n/index.js';

export interface BootUser {
  readonly userId: string;
  readonly role: Role;
  readonly organisationId: string | null;
  readonly email: string;
  readonly givenName: string;
  readonly surname: string;
}

export interface Boot {
  readonly page: PageId;
  readonly lang: Lang;
  /** Sent back as X-CSRF-Token with every change the page asks of the API. */
  readonly csrfToken: string;
  readonly user: BootUser | null;
  /** Path parameters of the page (the order's id). */
  readonly params: Readonly<Record<string, string>>;
}
