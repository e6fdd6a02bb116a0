-- People without a phone (four in ten of a county: children, most of the old) need no entry
-- in the phone index. A search by phone always asks for one value, which implies
-- "phone_hash IS NOT NULL", so the partial index still answers it; rebuilding it after a
-- county's import takes a third less time.
DROP INDEX persons_phone;
CREATE INDEX persons_phone ON persons (phone_hash) WHERE phone_hash IS NOT NULL;
