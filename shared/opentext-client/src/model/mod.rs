//! Typed responses and request options. Decoding is lenient: unknown fields are
//! ignored, ids may be strings, empty strings mean "no value".

mod category;
mod date;
mod disposition;
pub(crate) mod lenient;
mod node;
mod rm;

pub use category::{AttributeMetadata, CategoryValues};
pub(crate) use date::InZone;
pub use date::{DateError, OtDateTime, ServerTimeZone, TimeZoneError};
pub use disposition::{
    ActionOutcome, ActionStatus, DispositionItem, DispositionItemRef, DispositionSnapshot,
    ReviewChange, ReviewDecision, SearchHit, SnapshotDate,
};
pub use node::{
    AuditEntry, AuditEventType, AuditPage, EffectivePermissions, MultipartSession,
    MultipartSettings, Node, Page, Paging, User, Version, node_type,
};
pub use rm::{
    Hold, NewHold, NodeHold, RecordDetails, RecordUpdate, RmClassifications, Rsi, RsiStage,
};
