/**
 * A CA that looks real, as a deployment configures it (CA_* and CAA_IDENTIFIERS): the configuration's checks of a
 * production CA pass with it. The IBAN is the Banque de France's published example.
 */
export const REAL_CA = {
  CA_TRADING_NAME: 'Autorité Exemplaire',
  CA_LEGAL_NAME: 'Autorité Exemplaire SA',
  CA_ADDRESS_STREET: '12, boulevard Haussmann',
  CA_ADDRESS_POSTAL_CODE: '75009',
  CA_ADDRESS_LOCALITY: 'Paris',
  CA_ADDRESS_COUNTRY: 'France',
  CA_BANK_ACCOUNT_HOLDER: 'Autorité Exemplaire SA',
  CA_BANK_NAME: 'BNP Paribas',
  CA_BANK_IBAN: 'FR76 3000 6000 0112 3456 7890 189',
  CA_BANK_BIC: 'BNPAFRPPXXX',
  CA_SUPPORT_EMAIL: 'support@autorite-exemplaire.fr',
  CA_SUPPORT_PHONE: '+33 1 44 00 00 00',
  CAA_IDENTIFIERS: 'pki.autorite-exemplaire.fr',
};
