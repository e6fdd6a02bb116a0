-- Keyed hashes (HMAC-SHA256 under the lookup key, see vault.rs) are kept at their first 128
-- bits, 32 hex digits, instead of all 256. 128 bits leave no practical chance of two
-- people's IDs colliding and still cannot be reversed without the key file; the shorter
-- form took 64 bytes off every person row and 32 off each entry of the ID and phone
-- indexes (a 680,000-person county: 533 MB -> 455 MB, and a faster import). A stored hash
-- keeps its first 32 digits, which is exactly what the shorter hash of the same value is.
UPDATE persons SET id_hash = substr(id_hash, 1, 32) WHERE length(id_hash) > 32;
UPDATE persons SET phone_hash = substr(phone_hash, 1, 32) WHERE length(phone_hash) > 32;
UPDATE enterprises SET contact_phone_hash = substr(contact_phone_hash, 1, 32) WHERE length(contact_phone_hash) > 32;
UPDATE payee_accounts SET account_hash = substr(account_hash, 1, 32) WHERE length(account_hash) > 32;
