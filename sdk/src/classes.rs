//! The names people type for the program's codes: record classes, purposes, provider roles and
//! access actions. On chain a class is an opaque id below 16 so that nothing there names a kind
//! of health data; this table is the off-chain meaning. The CLI and the services take these
//! names, and their error messages list the known ones.
use crate::{action, Purpose, SdkError};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordClass {
    LabResult = 0,
    Imaging = 1,
    Prescription = 2,
    ClinicalNote = 3,
    DischargeSummary = 4,
    Immunization = 5,
    Genomic = 6,
    ClaimAttachment = 7,
}

impl RecordClass {
    pub const ALL: [RecordClass; 8] = [
        RecordClass::LabResult,
        RecordClass::Imaging,
        RecordClass::Prescription,
        RecordClass::ClinicalNote,
        RecordClass::DischargeSummary,
        RecordClass::Immunization,
        RecordClass::Genomic,
        RecordClass::ClaimAttachment,
    ];

    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn bit(self) -> u16 {
        1 << self.id()
    }

    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.get(usize::from(id)).copied()
    }

    /// The name people type and read, from the program's own table (the one its consent
    /// statements print).
    pub fn name(self) -> &'static str {
        careledger::logic::statement::CLASS_NAMES[usize::from(self.id())]
    }
}

impl fmt::Display for RecordClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RecordClass {
    type Err = crate::SdkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| unknown("record class", s, Self::ALL.map(RecordClass::name)))
    }
}

/// Purposes by name.
pub const PURPOSES: [(&str, Purpose); 5] = [
    (name_of(Purpose::Treatment), Purpose::Treatment),
    (name_of(Purpose::Payment), Purpose::Payment),
    (name_of(Purpose::Operations), Purpose::Operations),
    (name_of(Purpose::Research), Purpose::Research),
    (name_of(Purpose::PublicHealth), Purpose::PublicHealth),
];

/// The program's own names (those its consent statements print).
const fn name_of(purpose: Purpose) -> &'static str {
    careledger::logic::statement::purpose_name(purpose)
}

/// Provider roles by name, with their bit in a provider's role mask (the program's table).
pub const ROLES: [(&str, u8); 6] = careledger::state::ROLE_NAMES;

/// Supply-chain roles by name, with their bit in a provider's supply-role mask.
pub const SUPPLY_ROLES: [(&str, u8); 3] = [
    ("manufacturer", careledger::state::SUPPLY_MANUFACTURER),
    ("wholesaler", careledger::state::SUPPLY_WHOLESALER),
    ("dispenser", careledger::state::SUPPLY_DISPENSER),
];

/// Access actions by name, with their bit in a grant's action mask.
pub const ACTIONS: [(&str, u8); 2] = [("read", action::READ), ("write", action::WRITE)];

fn unknown(kind: &str, given: &str, known: impl IntoIterator<Item = &'static str>) -> SdkError {
    let known: Vec<&str> = known.into_iter().collect();
    SdkError::InvalidInput(format!(
        "unknown {kind} `{given}`: use {}",
        known.join(", ")
    ))
}

/// The purpose named `name` ("treatment", "public-health", ...).
pub fn purpose(name: &str) -> Result<Purpose, SdkError> {
    PURPOSES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
        .ok_or_else(|| unknown("purpose", name, PURPOSES.map(|(n, _)| n)))
}

/// The name of `purpose`, as [`purpose`] reads it.
pub fn purpose_name(purpose: Purpose) -> &'static str {
    name_of(purpose)
}

fn mask_of<S: AsRef<str>>(
    kind: &str,
    table: &[(&'static str, u8)],
    names: &[S],
) -> Result<u8, SdkError> {
    names.iter().try_fold(0, |mask, name| {
        let name = name.as_ref();
        table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bit)| mask | bit)
            .ok_or_else(|| unknown(kind, name, table.iter().map(|(n, _)| *n)))
    })
}

/// The names in `table` whose bits `mask` holds, in the table's order, joined by ", ";
/// "none" for an empty set. How a set is shown to people: never as a hex mask.
fn names_in(table: &[(&'static str, u8)], mask: u8) -> String {
    let names: Vec<&str> = table
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(n, _)| *n)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// A provider's care roles by name ("clinician, lab"; "none").
pub fn role_names(mask: u8) -> String {
    names_in(&ROLES, mask)
}

/// A provider's supply roles by name ("manufacturer, dispenser"; "none").
pub fn supply_role_names(mask: u8) -> String {
    names_in(&SUPPLY_ROLES, mask)
}

/// A grant's actions by name ("read, write").
pub fn action_names(mask: u8) -> String {
    names_in(&ACTIONS, mask)
}

/// A grant's classes by name ("lab-result, imaging"), as the consent statement prints them.
pub fn class_names(mask: u16) -> String {
    let labels: Vec<String> = careledger::logic::statement::class_labels(mask)
        .map(|l| l.to_string())
        .collect();
    if labels.is_empty() {
        "none".into()
    } else {
        labels.join(", ")
    }
}

/// The role mask of `names` ("clinician", "lab", ...).
pub fn role_mask<S: AsRef<str>>(names: &[S]) -> Result<u8, SdkError> {
    mask_of("role", &ROLES, names)
}

/// The action mask of `names` ("read", "write").
pub fn action_mask<S: AsRef<str>>(names: &[S]) -> Result<u8, SdkError> {
    mask_of("action", &ACTIONS, names)
}

/// The class mask of `names` ("lab-result", "imaging", ...).
pub fn class_mask_of<S: AsRef<str>>(names: &[S]) -> Result<u16, SdkError> {
    let classes = names
        .iter()
        .map(|n| n.as_ref().parse::<RecordClass>())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(class_mask(&classes))
}

/// The bitmask of a set of classes, as grants store it.
pub fn class_mask(classes: &[RecordClass]) -> u16 {
    classes.iter().fold(0, |mask, c| mask | c.bit())
}

/// The known classes in a bitmask (unknown ids are skipped).
pub fn classes_in(mask: u16) -> Vec<RecordClass> {
    RecordClass::ALL
        .into_iter()
        .filter(|c| mask & c.bit() != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_roles_and_actions_by_name() {
        for (name, p) in PURPOSES {
            assert_eq!(purpose(name).unwrap(), p);
            assert_eq!(purpose_name(p), name);
        }
        let e = purpose("billing").unwrap_err().to_string();
        assert!(e.contains("unknown purpose `billing`: use treatment, payment, operations, research, public-health"), "{e}");
        assert_eq!(
            role_mask(&["clinician", "lab"]).unwrap(),
            crate::ROLE_CLINICIAN | crate::ROLE_LAB
        );
        let all: Vec<&str> = ROLES.iter().map(|(n, _)| *n).collect();
        assert_eq!(role_mask(&all).unwrap(), crate::ROLES_ALL);
        assert!(role_mask(&["nurse"])
            .unwrap_err()
            .to_string()
            .contains("unknown role `nurse`: use clinician, lab"));
        assert_eq!(
            action_mask(&["read", "write"]).unwrap(),
            action::READ | action::WRITE
        );
        assert!(action_mask(&["delete"]).is_err());
        assert_eq!(
            role_names(crate::ROLE_CLINICIAN | crate::ROLE_INSURER),
            "clinician, insurer"
        );
        assert_eq!(role_names(0), "none");
        assert_eq!(action_names(action::READ | action::WRITE), "read, write");
        assert_eq!(class_names(0b1001), "lab-result, clinical-note");
        assert_eq!(class_names(1 << 9), "class-9");
        assert_eq!(
            class_mask_of(&["lab-result", "genomic"]).unwrap(),
            0b100_0001
        );
        let e = class_mask_of(&["x-ray"]).unwrap_err().to_string();
        assert!(
            e.contains("unknown record class `x-ray`: use lab-result, imaging"),
            "{e}"
        );
    }

    #[test]
    fn names_ids_and_masks_round_trip() {
        for c in RecordClass::ALL {
            assert_eq!(RecordClass::from_id(c.id()), Some(c));
            assert_eq!(c.name().parse::<RecordClass>().unwrap(), c);
        }
        assert_eq!(RecordClass::from_id(8), None);
        assert!("x-ray".parse::<RecordClass>().is_err());
        let mask = class_mask(&[RecordClass::LabResult, RecordClass::Genomic]);
        assert_eq!(mask, 0b100_0001);
        assert_eq!(
            classes_in(mask),
            vec![RecordClass::LabResult, RecordClass::Genomic]
        );
    }
}
