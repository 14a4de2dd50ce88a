"""The same job in polars-python, for comparison with `mailscope scope --attacker-ip IP`:
read a Purview CSV, decode AuditData, explode Folders/FolderItems, and list per mailbox the
messages bound and the folders synced from one IP.

    python3 benches/polars_scope.py export.csv 203.0.113.66
"""
import sys

import polars as pl

path, ip = sys.argv[1], sys.argv[2]

name_value = pl.List(pl.Struct({"Name": pl.String, "Value": pl.String}))
schema = pl.Struct(
    {
        "Id": pl.String,
        "CreationTime": pl.String,
        "Operation": pl.String,
        "MailboxOwnerUPN": pl.String,
        "ClientIPAddress": pl.String,
        "SessionId": pl.String,
        "OperationProperties": name_value,
        "Folders": pl.List(
            pl.Struct(
                {
                    "Path": pl.String,
                    "FolderItems": pl.List(pl.Struct({"InternetMessageId": pl.String})),
                }
            )
        ),
    }
)

df = pl.read_csv(path, columns=["RecordId", "AuditData"], infer_schema_length=0)
ad = df.select(pl.col("AuditData").str.json_decode(dtype=schema).alias("ad")).unnest("ad")
mia = ad.filter((pl.col("Operation") == "MailItemsAccessed") & (pl.col("ClientIPAddress") == ip))
mia = mia.with_columns(
    pl.col("OperationProperties")
    .list.eval(pl.element().filter(pl.element().struct.field("Name") == "MailAccessType").struct.field("Value"))
    .list.first()
    .alias("access")
)
folders = mia.explode("Folders").unnest("Folders")
synced = (
    folders.filter(pl.col("access") == "Sync")
    .group_by("MailboxOwnerUPN")
    .agg(pl.col("Path").unique().sort().alias("synced_folders"))
)
bound = (
    folders.filter(pl.col("access") == "Bind")
    .explode("FolderItems")
    .unnest("FolderItems")
    .with_columns(pl.col("InternetMessageId").str.strip_chars("<> ").str.to_lowercase())
    .group_by("MailboxOwnerUPN")
    .agg(pl.col("InternetMessageId").unique().sort().alias("messages"))
)
out = bound.join(synced, on="MailboxOwnerUPN", how="full", coalesce=True).sort("MailboxOwnerUPN")
print(
    f"records {df.height}, attacker MailItemsAccessed {mia.height}, mailboxes {out.height}, "
    f"messages {out['messages'].list.len().sum()}",
    file=sys.stderr,
)
