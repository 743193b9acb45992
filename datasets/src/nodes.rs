//! GPU machine lists without tasks: PAI 2020 machine spec and the 2026 spot-GPU node list.
//!
//! - PAI 2020 (`pai_machine_spec.csv`, no header: `machine, gpu_type, cap_cpu, cap_mem, cap_gpu`;
//!   cores, GB, GPUs), read from the CSV or straight from the shipped `pai_machine_spec.tar.gz`.
//!   Machines of type `CPU` have no GPUs.
//! - Spot GPU 2026 (`node_info_df.csv`, header `gpu_model, gpu_capacity_num, cpu_num, node_name`):
//!   no memory column, so its schema is (cpus, gpus).

use std::io::Read;
use std::path::Path;

use packing::Schema;
use sim::workload::{GpuInventory, MachineSpec, dims, schema};

use crate::Error;
use crate::rows::{Columns, ParseFn, Parsed, ReadOptions, Records, RowError, need_fields};

/// The schema of PAI 2020 machines: `cpus`, `mem`, `gpus`.
pub fn pai_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM, dims::GPUS])
}

/// The schema of the spot-GPU node list: `cpus`, `gpus`.
pub fn spot_schema() -> Schema {
    schema(&[dims::CPUS, dims::GPUS])
}

const PAI_SPEC: [&str; 5] = ["machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"];

/// Reads the PAI 2020 machine spec, from the CSV or from a `.tar.gz` holding `pai_machine_spec.csv`.
pub fn pai_machines(path: &Path, options: &ReadOptions) -> Result<Records<MachineSpec>, Error> {
    let parse = |_: &[String]| -> Result<ParseFn<MachineSpec>, String> {
        Ok(Box::new(|row| {
            need_fields(row, 5)?;
            let gpu_type = row.str(1)?;
            let count = row.u64(4)?;
            let count32 = u32::try_from(count)
                .map_err(|_| RowError::new("cap_gpu", row.str(4).unwrap_or(""), "is too large"))?;
            if gpu_type == "CPU" && count > 0 {
                return Err(RowError::new("cap_gpu", row.str(4)?, "is not 0 on a CPU machine"));
            }
            Ok(Parsed::Record(MachineSpec {
                name: row.str(0)?.to_string(),
                capacity: vec![
                    (row.nonneg(2)? * 1000.0).round() as u64,
                    (row.nonneg(3)? * 1024.0).round() as u64,
                    1000 * count,
                ],
                gpus: (count > 0).then(|| GpuInventory {
                    count: count32,
                    model: gpu_type.to_string(),
                }),
            }))
        }))
    };
    if path.to_string_lossy().ends_with(".tar.gz") {
        let member = "pai_machine_spec.csv";
        let bytes = archive_member(path, member)?
            .ok_or_else(|| Error::file(path, format!("the archive has no `{member}`")))?;
        let shown = std::path::PathBuf::from(format!("{}:{member}", path.display()));
        Records::from_reader(
            &shown,
            Box::new(std::io::Cursor::new(bytes)),
            options,
            Columns::Fixed(&PAI_SPEC),
            parse,
        )
    } else {
        Records::open(path, options, Columns::Fixed(&PAI_SPEC), parse)
    }
}

/// Reads the spot-GPU node list.
pub fn spot_nodes(path: &Path, options: &ReadOptions) -> Result<Records<MachineSpec>, Error> {
    let required = ["gpu_model", "gpu_capacity_num", "cpu_num", "node_name"];
    Records::open(path, options, Columns::Header(&required), move |names| {
        let at = |c: &str| names.iter().position(|n| n == c).expect("checked");
        let [model, gpus, cpus, name] = required.map(at);
        Ok(Box::new(move |row| {
            let count = row.u64(gpus)?;
            let count32 = u32::try_from(count)
                .map_err(|_| RowError::new(row.name(gpus), row.str(gpus).unwrap_or(""), "is too large"))?;
            Ok(Parsed::Record(MachineSpec {
                name: row.str(name)?.to_string(),
                capacity: vec![row.scaled(cpus, 1000)?, 1000 * count],
                gpus: (count > 0).then(|| GpuInventory {
                    count: count32,
                    model: row.str(model).unwrap_or("").to_string(),
                }),
            }))
        }))
    })
}

/// The bytes of the first archive member whose file name is `name`, if any.
pub fn archive_member(archive: &Path, name: &str) -> Result<Option<Vec<u8>>, Error> {
    let mut found = None;
    for_each_member(archive, |path, bytes| {
        if found.is_none() && Path::new(path).file_name().is_some_and(|n| n == name) {
            found = Some(bytes.to_vec());
        }
        Ok(())
    })?;
    Ok(found)
}

/// Calls `visit` with the path and bytes of every regular file in a `.tar.gz` archive, in order.
pub fn for_each_member(
    archive: &Path,
    mut visit: impl FnMut(&str, &[u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    let file = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let entries = tar
        .entries()
        .map_err(|e| Error::file(archive, format!("not a tar.gz archive: {e}")))?;
    let mut bytes = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::file(archive, format!("broken archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| Error::file(archive, e.to_string()))?
            .to_string_lossy()
            .into_owned();
        bytes.clear();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::file(archive, format!("{path}: {e}")))?;
        visit(&path, &bytes)?;
    }
    Ok(())
}
