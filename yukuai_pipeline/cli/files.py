"""The commands about the landing folder's files: `yukuai demo-data` writes the demo's synthetic exports into it,
`yukuai archive` moves the ingested files dated before a day into the archive folder.
"""

from yukuai_pipeline.file_modes import private_dir
from yukuai_pipeline.settings import Settings


def cmd_demo_data(args) -> int:
    from yukuai_pipeline.demo.data import generate_demo_data

    landing = private_dir(args.landing_dir or Settings.from_env().landing_dir)
    paths = generate_demo_data(landing, days=args.days, seed=args.seed)
    print(f"已生成 {len(paths)} 个演示文件 → {landing.resolve()}")
    return 0


def cmd_archive(args) -> int:
    from yukuai_pipeline.archive import archive_before
    from yukuai_pipeline.settings import archive_dir
    from yukuai_pipeline.warehouse import Warehouse

    settings = Settings.from_env()
    target = archive_dir(settings.landing_dir)
    result = archive_before(settings.landing_dir, target, Warehouse(settings.database_url), args.before, args.dry_run)
    verb = "将归档" if args.dry_run else "已归档"
    print(f"{verb} {len(result.moved)} 个 {args.before} 之前已入库的文件 → {target.resolve()}")
    for path, why in result.kept:
        print(f"  留在原处：{path.name}（{why}）")
    return 0
