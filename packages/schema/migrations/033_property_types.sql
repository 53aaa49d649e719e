-- Property types. A Map(String, String) bag holds a string as it is and every other JSON value (number, boolean,
-- list, object) as its JSON text, so the text alone cannot tell the string "[1,2]" from the list [1,2], nor "42"
-- from 42. Each bag gets a list of its keys whose value is JSON text (every key not listed holds a string): readers
-- give values back with their JSON type and recognise lists exactly. The writer fills the lists; rows written
-- before this migration (and inserts that leave them out) get them from the DEFAULT, which infers the type from
-- the text: valid JSON that is not a string, not "null" and has no surrounding blanks.
ALTER TABLE {db}.events
  ADD COLUMN IF NOT EXISTS event_properties_json_keys Array(String)
    DEFAULT mapKeys(mapFilter((__k, __v) -> __v != 'null' AND NOT startsWith(__v, '"') AND __v = trimBoth(__v) AND isValidJSON(__v), event_properties))
    COMMENT 'keys of event_properties whose value is JSON text, not a string'
    AFTER event_properties,
  ADD COLUMN IF NOT EXISTS user_properties_json_keys Array(String)
    DEFAULT mapKeys(mapFilter((__k, __v) -> __v != 'null' AND NOT startsWith(__v, '"') AND __v = trimBoth(__v) AND isValidJSON(__v), user_properties))
    COMMENT 'keys of user_properties whose value is JSON text, not a string'
    AFTER user_properties;

ALTER TABLE {db}.event_groups
  ADD COLUMN IF NOT EXISTS event_properties_json_keys Array(String)
    DEFAULT mapKeys(mapFilter((__k, __v) -> __v != 'null' AND NOT startsWith(__v, '"') AND __v = trimBoth(__v) AND isValidJSON(__v), event_properties))
    COMMENT 'keys of event_properties whose value is JSON text, not a string'
    AFTER event_properties,
  ADD COLUMN IF NOT EXISTS user_properties_json_keys Array(String)
    DEFAULT mapKeys(mapFilter((__k, __v) -> __v != 'null' AND NOT startsWith(__v, '"') AND __v = trimBoth(__v) AND isValidJSON(__v), user_properties))
    COMMENT 'keys of user_properties whose value is JSON text, not a string'
    AFTER user_properties,
  ADD COLUMN IF NOT EXISTS group_properties_json_keys Array(String)
    DEFAULT mapKeys(mapFilter((__k, __v) -> __v != 'null' AND NOT startsWith(__v, '"') AND __v = trimBoth(__v) AND isValidJSON(__v), group_properties))
    COMMENT 'keys of group_properties whose value is JSON text, not a string'
    AFTER group_properties;
