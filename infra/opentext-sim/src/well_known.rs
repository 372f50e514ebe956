//! Ids seeded by `seed/default.json` (see docs/SIM-CONTRACT.md). Tests may rely on them.

pub const ADMIN: i64 = 1000;
pub const JDOE: i64 = 1001;
pub const AUDITOR: i64 = 1002;
pub const SVC_RECORDS: i64 = 1003;
pub const OUTSIDER: i64 = 1004;

pub const GROUP_RECORDS_MANAGERS: i64 = 1100;
pub const GROUP_AUDITORS: i64 = 1101;

pub const ENTERPRISE_WORKSPACE: i64 = 2000;
pub const FOLDER_RECORDS: i64 = 2100;
pub const FOLDER_FINANCE: i64 = 2101;
pub const FOLDER_HR: i64 = 2102;
pub const FOLDER_LEGAL: i64 = 2103;
pub const FOLDER_ARCHIVE: i64 = 2200;
/// Folder `Publications`: P7's publish folder in tests and the demo.
pub const FOLDER_PUBLICATIONS: i64 = 2300;

/// Category `S3 Provenance`; attribute keys are `3100_2` .. `3100_9`.
pub const CATEGORY_S3_PROVENANCE: i64 = 3100;
pub const ATTR_BUCKET: &str = "3100_2";
pub const ATTR_KEY: &str = "3100_3";
pub const ATTR_VERSION_ID: &str = "3100_4";
pub const ATTR_ETAG: &str = "3100_5";
pub const ATTR_SIZE: &str = "3100_6";
pub const ATTR_SHA256: &str = "3100_7";
pub const ATTR_SOURCE_URI: &str = "3100_8";
pub const ATTR_ARCHIVE_LOCATION: &str = "3100_9";

/// Category `Publication` (P7): `3300_2` Approval Status, `3300_3` Approved Version.
pub const CATEGORY_PUBLICATION: i64 = 3300;
pub const ATTR_APPROVAL_STATUS: &str = "3300_2";
pub const ATTR_APPROVED_VERSION: &str = "3300_3";

pub const RM_CLASS_FIN_INVOICES: i64 = 4100;
pub const RM_CLASS_HR_PERSONNEL: i64 = 4101;
pub const RM_CLASS_LEG_CONTRACTS: i64 = 4102;

pub const RSI_FIN_7Y: i64 = 5100;
pub const RSI_HR_PERM: i64 = 5101;
pub const RSI_LEG_EVENT: i64 = 5102;

pub const HOLD_LIT_2026_001: i64 = 6100;

/// RM disposition search `Disposition search` (whole repository, any RSI, no reviewer).
pub const DISPOSITION_SEARCH: i64 = 7100;

/// First id handed to nodes created at run time.
pub const FIRST_NEW_NODE_ID: i64 = 10000;
