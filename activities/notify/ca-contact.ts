/**
 * The CA's own contact details as the customer guides give them (seeds 001 and 004), in one place for every mail
 * and the order form. The bank details are placeholders: the seeds show the table with its values blanked out.
 */
export const CA_NAME = 'CertFlow';

/** Where originals (RGS**, RGS***, eIDAS) and cheques are posted. */
export const CA_POSTAL_ADDRESS: readonly string[] = ['Certigna', '20, allée de la Râperie', 'F-59650 Villeneuve d’Ascq', 'France'];

export const CHEQUE_PAYEE = 'Dhimyotis';

export const BANK_DETAILS = {
  accountHolder: 'Dhimyotis',
  bank: '[banque / bank]',
  iban: 'FR76 XXXX XXXX XXXX XXXX XXXX XXX',
  bic: 'XXXXFRPPXXX',
} as const;
