//! Users staged by an import: the records it wrote, as the index takes them.

use crate::transfers;
use crate::{AccountType, Amount, Date};

use super::*;

/// A user's data as a bulk import wrote it, for the index to take
/// instead of reading it back: the import's parsed records already hold
/// every value the database would return (see `finseg_store::import::Stager`).
#[derive(Debug, Clone)]
pub struct StagedUser {
    /// The sequence number of the write that left the user this way.
    pub data_seq: i64,
    pub id: String,
    /// In the order written; packed in id order.
    pub accounts: Vec<StagedAccount>,
}

/// An account of a [`StagedUser`] with its bookings and supplied balances.
#[derive(Debug, Clone)]
pub struct StagedAccount {
    pub id: String,
    pub account_type: AccountType,
    pub balance: Amount,
    pub balance_date: Date,
    pub data_since: Option<Date>,
    /// The IBAN as stored.
    pub iban: Option<String>,
    pub bookings: Vec<StagedBooking>,
    pub daily_balances: Vec<(Date, Amount)>,
}

/// A booking of a [`StagedAccount`]: `booking.names_account` is left to
/// [`StagedUser::pack`], which knows all of the user's IBANs.
#[derive(Debug, Clone)]
pub struct StagedBooking {
    pub booking: RawBooking,
    /// The counterpart IBAN as stored.
    pub counterpart_iban: Option<String>,
}

impl StagedUser {
    /// The index's form of the user, as the loader builds it from the
    /// database: accounts in id order, the counterpart IBANs matched
    /// against the user's own.
    pub fn pack(self, numbers: &mut TagNumbers) -> IndexedUser {
        let mut accounts = self.accounts;
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        let ibans: Vec<Option<String>> = accounts
            .iter()
            .map(|a| a.iban.as_deref().map(transfers::normalise_iban))
            .collect();
        let packed: Option<Vec<ColumnarAccount>> = accounts
            .into_iter()
            .map(|a| {
                let mut bookings: Vec<RawBooking> = a
                    .bookings
                    .into_iter()
                    .map(|b| RawBooking {
                        names_account: names_account(b.counterpart_iban.as_deref(), &ibans),
                        ..b.booking
                    })
                    .collect();
                ColumnarAccount::pack(
                    AccountParts {
                        id: &a.id,
                        account_type: a.account_type,
                        balance: a.balance,
                        balance_date: a.balance_date,
                        data_since: a.data_since,
                    },
                    &mut bookings,
                    a.daily_balances,
                    numbers,
                )
            })
            .collect();
        IndexedUser {
            data_seq: self.data_seq,
            user: packed.map(|accounts| ColumnarUser {
                id: self.id.into(),
                accounts: accounts.into_boxed_slice(),
            }),
        }
    }
}
