/**
 * The CA families' specifications: for each of TLS, persons and seals, a root and the issuing CA it signs, with the
 * names, lifetimes, policies and extended key usages their certificates carry.
 */
import type { CaFamily, CaId } from '../../lib/pki/ca-ids.js';
import { ANY_POLICY, CABF_POLICY, ETSI_POLICY, OWN_POLICY, SMIME_POLICY } from './policies.js';
import { x509 } from '../../lib/pki/x509.js';

export interface CaSpec {
  readonly id: CaId;
  readonly name: x509.JsonName;
  readonly years: number;
}

export interface IssuingCaSpec extends CaSpec {
  /** The policies certificates below it may assert (RFC 5280 §6.1: a leaf's policy must be one its CA allows). */
  readonly policies: readonly string[];
  /**
   * The purposes of the certificates below it. Required of every TLS and S/MIME subordinate CA (BR §7.1.2.10.6,
   * S/MIME BR §7.1.2.2 g), so every family sets it; clients such as openssl refuse a leaf whose purpose its CA does
   * not list. Omitted would mean no EKU extension at all.
   */
  readonly extendedKeyUsage?: readonly string[];
}

export interface FamilySpec {
  readonly family: CaFamily;
  readonly root: CaSpec;
  readonly issuing: IssuingCaSpec;
}

const caName = (cn: string): x509.JsonName => [{ C: ['FR'] }, { O: ['CertFlow'] }, { CN: [cn] }];

export const FAMILIES: Readonly<Record<CaFamily, FamilySpec>> = {
  tls: {
    family: 'tls',
    root: { id: 'tls-root', name: caName('CertFlow TLS Root CA'), years: 20 },
    issuing: {
      id: 'tls-issuing',
      name: caName('CertFlow TLS Issuing CA 1'),
      years: 10,
      // BR §7.1.2.10: a TLS subordinate CA names serverAuth and the reserved OV policy; the ETSI and own policies its
      // leaves also assert are listed so the path's valid policy set keeps them.
      extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth],
      policies: [CABF_POLICY.organizationValidated, ETSI_POLICY.ovcp, OWN_POLICY.SSL, OWN_POLICY.SSL_RGS_STAR, OWN_POLICY.SSL_WILDCARD],
    },
  },
  persons: {
    family: 'persons',
    root: { id: 'persons-root', name: caName('CertFlow Persons Root CA'), years: 20 },
    issuing: {
      id: 'persons-issuing',
      name: caName('CertFlow Persons Issuing CA 1'),
      years: 10,
      // An S/MIME subordinate CA (S/MIME BR §7.1.2.2 g): emailProtection, and clientAuth for the authentication
      // products; never serverAuth, codeSigning, timeStamping or anyExtendedKeyUsage.
      extendedKeyUsage: [x509.ExtendedKeyUsage.emailProtection, x509.ExtendedKeyUsage.clientAuth],
      // S/MIME BR §7.1.6.3: the reserved S/MIME identifier of its leaves, then the CA's own and the ETSI policies
      // they assert, so the path's valid policy set keeps every one of them (RFC 5280 §6.1).
      policies: [
        SMIME_POLICY.sponsoredMultipurpose,
        OWN_POLICY.ID_RGS_STAR,
        OWN_POLICY.ID_RGS_2STAR,
        OWN_POLICY.ID_RGS_3STAR,
        OWN_POLICY.ENCRYPTION,
        OWN_POLICY.EIDAS_QUALIFIED,
        ETSI_POLICY.lcp,
        ETSI_POLICY.ncpPlus,
        ETSI_POLICY.qcpNQscd,
      ],
    },
  },
  seals: {
    family: 'seals',
    root: { id: 'seals-root', name: caName('CertFlow Seals Root CA'), years: 20 },
    issuing: {
      id: 'seals-issuing',
      name: caName('CertFlow Seals Issuing CA 1'),
      years: 10,
      // An S/MIME-capable subordinate CA (S/MIME BR §7.1.2.2 g: emailProtection present, never serverAuth) that also
      // certifies the client-authenticating servers; a seal has no EKU and so inherits the CA's.
      extendedKeyUsage: [x509.ExtendedKeyUsage.emailProtection, x509.ExtendedKeyUsage.clientAuth],
      // S/MIME BR §7.1.6.3 and BR §7.1.2.10.5: a CA affiliated with its root may assert anyPolicy (alone), which lets
      // the seals' and server-client certificates' own and ETSI NCP policies through.
      policies: [ANY_POLICY],
    },
  },
};

/** Kept for callers that name the persons family directly. */
export const PERSONS_FAMILY = FAMILIES.persons;
