"""Where each benchmark's raw files come from and where they land below the data root.

Every entry is an official URL (the one google-research/xtreme's ``scripts/download_data.sh``, microsoft/XGLUE
or the data set's own release uses), what kind of file it is, and its destination in the shared layout
(``<data_root>/<task folder>/...``, official archives extracted as-is, official file names). Known sha256 sums
and sizes come from the checksums Hugging Face ``datasets`` recorded for the same URLs (xtreme, xnli and
super_glue scripts); for Tatoeba they were also checked against the LASER files in the project's samples.
Entries with no known sum get one recorded at the first download, and later runs check against that.

Data that cannot be fetched by a program (CCGbank needs an LDC licence; Mewsli-X is rebuilt from WikiNews
dumps by its authors' pipeline) is a :class:`ManualSource`: the command says what to fetch and where to put it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean


@dataclass(frozen=True)
class Source:
    """One file to fetch. ``kind`` is ``file`` (kept where ``target`` says), ``zip`` or ``tar`` (any
    compression), extracted into the folder ``target``; the archive itself is kept in ``<target>/.archives/``
    so that a re-run can verify it and a damaged extraction can be redone without the network."""

    url: str
    target: str  # below the data root: the file for kind "file", the folder extracted into for archives
    kind: str = "file"
    sha256: str | None = None
    size: int | None = None
    strip: str = ""  # leading member path dropped on extraction ("lareqa-master/")
    # Archives that hold one archive per language (PAN-X): <code>.tar.gz is extracted into <target>/<code>/.
    nested: tuple[str, ...] = ()
    hint: str = ""  # what to do by hand if the URL fails

    @property
    def file_name(self) -> str:
        return PurePosixPath(urlsplit(self.url).path).name

    @property
    def download_path(self) -> str:
        """Where the fetched bytes live below the data root (a user without network puts the file here)."""
        if self.kind == "file":
            return self.target
        return f"{self.target}/.archives/{self.file_name}"


@dataclass(frozen=True)
class ManualSource:
    """Data that must be fetched by hand: ``expect`` lists paths (below the data root) that show it is there."""

    what: str
    instructions: str
    expect: tuple[str, ...] = field(default_factory=tuple)


# --- XTREME (google-research/xtreme scripts/download_data.sh) -------------------------------------------------

FB = "https://dl.fbaipublicfiles.com"
XNLI = [
    Source(f"{FB}/XNLI/XNLI-1.0.zip", "xnli", "zip", size=17865352,
           sha256="4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1"),
    # English training data: MNLI as shipped in XNLI-MT-1.0 (multinli/multinli.train.en.tsv).
    Source(f"{FB}/XNLI/XNLI-MT-1.0.zip", "xnli", "zip", size=466098360,
           sha256="f732517ba2fb1d550e9f3c2aabaef6017c91ee2dcec90e878f138764d224db05"),
]
PAWSX = [
    Source("https://storage.googleapis.com/paws/pawsx/x-final.tar.gz", "pawsx", "tar", size=30282057,
           sha256="4146db499101d66e68ae4c8ed3cf9dadecd625f44b7d8cf3d4a0fe93afc4fd9f"),
]
LINDAT = "https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234"
UD_25 = Source(f"{LINDAT}/1-3105/ud-treebanks-v2.5.tgz", "udpos", "tar", size=355216681,
               sha256="5ff973e44345a5f69b94cc1427158e14e851c967d58773cc2ac5a1d3adaca409")
# XTREME-R takes lt, pl, uk, wo and ro from UD v2.7.
UD_27 = Source(f"{LINDAT}/1-3424/ud-treebanks-v2.7.tgz", "udpos", "tar")

PANX_XTREME = ("ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw "
               "yo my zh kk tr et fi hu").split()
PANX_XTREME_R = (*PANX_XTREME, *"qu pl uk az lt pa gu ro".split())
PANX_HINT = ("or save XTREME's AmazonPhotos.zip, downloaded by hand from "
             "https://www.amazon.com/clouddrive/share/d3KGCRCIYwhKJF0H3eWA26hjg2ZCRhjpEQtDL70FSBN, at that path: "
             "it holds the same per-language <lang>.tar.gz archives, which are extracted into panx/<lang>/")


def _panx(languages: tuple[str, ...] | list[str]) -> list[Source]:
    # The data set's authors (afshinrahimi/mmner README) give this link for wget/curl; it is the archive of
    # per-language tar.gz files that XTREME's AmazonPhotos.zip holds.
    return [Source("https://www.dropbox.com/s/12h3qqog6q4bjve/panx_dataset.tar?dl=1", "panx", "tar",
                   nested=tuple(languages), hint=PANX_HINT)]


XQUAD_LANGS = "ar de el en es hi ru th tr vi zh".split()
XQUAD_SHA256 = {
    "ar": "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d",
    "de": "990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9",
    "el": "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e",
    "en": "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29",
    "es": "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e",
    "hi": "df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24",
    "th": "5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43",
    "tr": "92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc",
    "vi": "f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04",
    "zh": "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835",
}


def _xquad(languages: list[str]) -> list[Source]:
    return [Source(f"https://raw.githubusercontent.com/deepmind/xquad/master/xquad.{lang}.json",
                   f"xquad/xquad.{lang}.json", sha256=XQUAD_SHA256.get(lang)) for lang in languages]


MLQA = [
    Source(f"{FB}/MLQA/MLQA_V1.zip", "mlqa", "zip", size=75719050,
           sha256="246e8089933d13007fe80684d5c5c0713d6834cf8b3b4a0ec7c66f0a0d2baac8"),
]
TYDIQA = [
    Source("https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-train.json",
           "tydiqa/tydiqa-goldp-v1.1-train.json", size=58004076,
           sha256="cefc8e09ff2548d9b10a678d3a6bbbe5bc036be543f92418819ea676c97be23b"),
    # XTREME's TyDiQA test set is the GoldP dev set, one file per language in this archive.
    Source("https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-dev.tgz", "tydiqa", "tar"),
]
BUCC_SHA256 = {
    ("de", "sample"): "8e16ba8b02ef8d648b06adfbd6dfb188f43524e18f97b2b12a14a086caac62f3",
    ("de", "training"): "766e0fdebbd1438fb87c21254828eb13c8b997d8fbab002103dd060dcac50c5c",
    ("fr", "sample"): "df9eb3966954e163c9264076f7c9c1eb56d9d8a91855f9d3afbf2c0fdaef0a08",
    ("fr", "training"): "53c0d0e7dd97dc89593a2db25a26c5f0ccdc7113e8451263bb0c80e4c4c7dc30",
    ("ru", "sample"): "fce3cabc7ee50ddb4b18aa6fb090e2669c8383d2a29fc97eed6ae70fed9a23e5",
    ("ru", "training"): "1895df56e936ca3d4f5b12299ceffe0b7ff4806584c40bdaa3ae1d445f25afa5",
    ("zh", "sample"): "a3425be5c0320ee131a0927b66c3e29befb3b481ebf1b87257e660e514bc16ac",
    ("zh", "training"): "3facb71798277c8f44dc78c1f8ae2110f254d0e14799f3508eedd54b4236877a",
}
# Never the Hugging Face copy: it holds only the gold pairs, not the sentences to mine.
BUCC = [
    Source(f"https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{split}-gold.tar.bz2", "bucc2018", "tar",
           sha256=BUCC_SHA256[lang, split])
    for lang in ("de", "fr", "ru", "zh") for split in ("sample", "training")
]

# LASER's Tatoeba v1 files, pinned to a commit so the bytes cannot change under the known sums.
LASER = ("https://raw.githubusercontent.com/facebookresearch/LASER/74bc6ae7ffb7cba670fe0f428d0ede9f666fb821/"
         "data/tatoeba/v1")
TATOEBA_XTREME = ("afr ara ben bul cmn deu ell est eus fin fra heb hin hun ind ita jav jpn kat kaz kor mal mar nld "
                  "pes por rus spa swh tam tel tgl tha tur urd vie").split()
TATOEBA_XTREME_R = (*TATOEBA_XTREME, *"aze lit pol ron ukr".split())
TATOEBA_SHA256 = {
    "afr": ("7bb9e073ad8422d6bfdec7c9ebdcef8ac486e72b237200e447923a8b921a0a56",
            "0b700c125efb4030b4cc50d9d765d5884afc24f39296f29b028a1b2a8512034f"),
    "ara": ("e67a0ae072b79cd9e8eb09f166c3bc0b23488d39f5720f2ee0a8350ae17b719f",
            "3c11838c963f598a52dcf2f452b666353538257001db5c59c3a5f54a999b336b"),
    "ben": ("ac3385695d6a6c7e5d18e38ad4b8b7d3780f3df23dd0ff3f539071b8269a8613",
            "67fbe75fec549d436c3356b6d6f8dd53179b6a908661b5d507d28c7fee83350e"),
    "bul": ("f9fa90cf3599d8c87f7a6ed22f5d648e3ce6687c705656a8c8ea088d891f79d5",
            "4b03b3b52ffb7cf4286e0c4453c90910a3021546f160bdf0e4d39d1f45bfbc0b"),
    "cmn": ("965d033966fcd186c89741ad49ab4b0a0b2bbd33e02666635ff3b2be23c1ac1f",
            "29ba36232488f5806aceccac57c59c5e750ddd08edb40eef417e3ada9ff9a239"),
    "deu": ("edfa6f75a42554df388f45891735d5e4214158a99def4b73b5908af4a3054551",
            "eb9cc83a42f2c4b22f310d05311207e41abb56c2a084666cac3ee0f84d2d0b84"),
    "ell": ("4fb3d3d30bdafd15100dfad5c4680f8f2ed5ca87ed0a6122e2fe2aa21fee65e8",
            "1f630710e718e2f85a4e757d3c7f3d6e78ded0b25c99653b4c552138318d9ffe"),
    "est": ("94856999ef35e5357502d7ecf50419d0108b99270e507d9c57f8b283bd1be9c5",
            "bb033b10596178452aecf2d97ad25580251375e7d224d8b38dad3d93d69b1e4f"),
    "eus": ("4255fb70a6c268b09fcc59a9b308f0fcaaf45ef45e66fc55bf3c80eac4d8c97b",
            "1e80f0174ad544697fd69ddcf21287ca10c5e3cacba2fc42bf1d68c460d14ba2"),
    "fin": ("8db3c734f755d578445947f1182f40faf2a9a0eca37561dd248717c088802d60",
            "322e610359f4d24852e673bbe4524d52c26dbf980aca0760e95c66dc21ecd504"),
    "fra": ("644172ff9642fefa9e41c29b7d6f44196518e84350dc44d4992e943c0cca92b6",
            "5634220f8a26a9a23b84753a9aec0b0832e6bdaa9da3f83e0bd84c928c3f46e3"),
    "heb": ("4a07ca4b8a6fb7ab499791573a2454730f47acbe209359d7b9372a9f6094a102",
            "73c27ed0f76c1d2da199230f05489749e10bb67ab879c6dfee8ca9807d6bd99c"),
    "hin": ("15e4fb0a394be4438319f1d6955d1aea226e2a8c5ad38798b23b76ae43d742ed",
            "adfce2269a55dbac69b25c0f4f6eb89e0f9383165485925a2e042e61b9480562"),
    "hun": ("56bd0682be8c1db6568313650b3310d641cc8d0019d12dd7caf201302350eeac",
            "5323266e91ddee67ed1ae00d6bbac0cdf3d37749d1b2da3459bf0d424bc71383"),
    "ind": ("4f03cd70cba071f746eacd3ebf6b60fd5a8377ce18b4cc52edec6721f05f352a",
            "62a3f5127b60eb3526b8fa3994a68fa1a1f114f3a395307a8808a3517c05ffc5"),
    "ita": ("9b3f369d0ed92273b46dd3b983721636e3d15024ce7125f5103229249c386d26",
            "738bf8f981e42d285f4f08bc09238782d285b02050e6e95287aa4e998bb7b24b"),
    "jav": ("ad88399db8f94c2a040aa53e7e862225964fac9308a3beb3d5b38f3eca2f827f",
            "172776353690f6c047ea21da969fa6979980d692fff1cfbac17eb25851423760"),
    "jpn": ("56040bd6949170a631039d9f8f4c6440db8761b0065c9686feba55c99a320d46",
            "b42129b34e1bf225ccc25fc00e532a6113af98adbc6605b93021bd8aadeb68b6"),
    "kat": ("6ef69b5efbf355597ed91eb355b33a5f524bdf0875dbeaaccf6375badc20e29b",
            "d70a14aa64fd7c6b545f11aea754a632e1cbecb91af27fcf6a98a8449a48a8e7"),
    "kaz": ("f20c682582a80b6aa10f3b933db93bc314449b554ce611e263bc75990b319aef",
            "0ab684e7032c6520540d5785adf00ef206d097221d0dd4dc9bcaabd64068e10d"),
    "kor": ("e550c84184ec35b1a0dab3154284719511a21746e53c40f46eb6ab08179e9188",
            "f900cf3c9b72ed5a400e1804702863ff3df00be58eb060902e02285d0e68fab3"),
    "mal": ("1a896f54f85a454fb0123864049c65921ae9dfd0cafda6deef8060f0104d965e",
            "4d80cdbb844cd4e33f874e5dc45c1cdda4f80998034448f7eb56b8b6532a6622"),
    "mar": ("b2931584fbe62062beb97cc939e4d208ace5ee56f15808860ab14e130fd3c576",
            "709d09b697dca053c814b9d525b72cb47cb011aa860c6598f3e2b1b3dd1280dd"),
    "nld": ("d564d4ce1c621ccaefdbe9f5cb08eacccc7bf2a0b58666303e84ca9c7973bdb7",
            "3b8836749df573a53235b85ed6771f31bf2de428f520d2d6a1dd94b61b4ef057"),
    "pes": ("f1553713723491fe5876e1060b18fb4abf0c77be3ba06db2e3307e83aedbbb32",
            "b5c6cf8c8d93ff8f2fe26b53f3ee29b62db9c6f7dcddcb086ba48953f4ce926b"),
    "por": ("b0c926a232c9889a87a1a970f9399c5618c2d95baf204321e9da794c0aec16f5",
            "deb4568cfb7b7cbbc060a7fe97c4639fb4680842f4fcd28df791ffdbb753855a"),
    "rus": ("446ff2cae66053c2277d9735b2c2df6b786cae258385f7ade7bed68d8835c6a0",
            "7b26f52d6085b7c4944d6f5f6f5b6e1932085b42112f1444db515ce59e878fb8"),
    "spa": ("f9628cea40481e8251f0999718bd893cff0f261752f5e526b3bc20284e2ca018",
            "89e4470f4572040b1ca94b3edad97dcd8bd2f0141f072e12933b8659dadf917d"),
    "swh": ("1c672915446c336cc378676e6dbf91eb54d27bbfd0c61563d349265bc6374753",
            "e8539647caff9e329776ae863b6224d432923c6e4e9256b9df92ca58ff282eac"),
    "tam": ("bde87fb1ddedccf6c7a2b70ffdd19a959a573c113c2e7a041c4b623fb2170bde",
            "e7c5106acdd100214a161970b2a5c31e7386e5b6a963e3d3afdf30412c90ac53"),
    "tgl": ("f99165dc05190b99f6574fe24db884ff85d111612a25e7a37323f001aafc2a6e",
            "e7c9beda3f3072a968a34a7226a66d1ebf1dcb33cf002805dc752f80a7c620ae"),
    "tha": ("65c7b3c01a56a1ac8971e72e0ea8e74a027718dc84044d8802c0ab36395a3156",
            "2881c82d2c5fa59cf0a68bc9e012f5e0b0a716f7357cbecf77c247efc2fd7294"),
    "tur": ("1ffa0acc006018b3105abda41a4d4ca42f3c122964a49b71793546367b079a86",
            "a768df7dd3d1344f872a458b32c3a65e24f8381826ccb16ba6677426176c8121"),
    "urd": ("2efc22dc61885a9454aeeee68c8b841c7f9138d53ba644a82308bd210140450b",
            "dab35fda3f73b3fd86b6b9f9f9f6242430961aa5d1ac247adbc646867df79cec"),
    "vie": ("6dbb02d778b0bfc8678cd85f87db76de55dd7e409a26fe32ad42d50e0f1fff77",
            "a1f60bd8ae6c42224a4c050d2aa1ff4242d14827d64d7831e96ecf2b2c367f5f"),
}


def _tatoeba(codes: tuple[str, ...] | list[str]) -> list[Source]:
    sources = []
    for code in codes:
        own, eng = TATOEBA_SHA256.get(code, (None, None))
        for side, sha in ((code, own), ("eng", eng)):
            name = f"tatoeba.{code}-eng.{side}"
            sources.append(Source(f"{LASER}/{name}", f"tatoeba/{name}", sha256=sha))
    return sources


SQUAD_EXPLORER = "https://rajpurkar.github.io/SQuAD-explorer/dataset"
SQUAD_V1 = [
    Source(f"{SQUAD_EXPLORER}/train-v1.1.json", "squad/train-v1.1.json", size=30288272,
           sha256="3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955"),
    Source(f"{SQUAD_EXPLORER}/dev-v1.1.json", "squad/dev-v1.1.json", size=4854279,
           sha256="95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"),
]
SQUAD_V2 = [Source(f"{SQUAD_EXPLORER}/{name}", f"squad/{name}") for name in ("train-v2.0.json", "dev-v2.0.json")]

# --- XTREME-R additions ----------------------------------------------------------------------------------------

XCOPA_LANGS = "et ht id it qu sw ta th tr vi zh".split()
XCOPA = [
    Source(f"https://raw.githubusercontent.com/cambridgeltl/xcopa/master/data/{lang}/{split}.{lang}.jsonl",
           f"xcopa/data/{lang}/{split}.{lang}.jsonl")
    for lang in XCOPA_LANGS for split in ("val", "test")
] + [
    # English COPA (SuperGLUE), XTREME-R's English train/val data for XCOPA (task `copa`), extracted as-is:
    # xcopa/COPA/{train,val,test}.jsonl. Sum and size as Hugging Face's super_glue script records them.
    Source(f"{FB}/glue/superglue/data/v2/COPA.zip", "xcopa", "zip", size=43986,
           sha256="405906cddac74bc1e1ce8220f1107d1025b66a25ef10149d91b10bb30651125f"),
]
SOCIALIQA = [Source("https://maartensap.github.io/social-iqa/data/socialIQa_v1.4.tgz", "socialiqa", "tar")]
LAREQA = [
    # The repository archive; xquad-r/<lang>.json lands in lareqa/xquad-r/.
    Source("https://github.com/google-research-datasets/lareqa/archive/master.zip", "lareqa", "zip",
           strip="lareqa-master/"),
]
MEWSLIX = ManualSource(
    "Mewsli-X",
    "Mewsli-X is rebuilt from WikiNews dumps by its authors' pipeline: run `bash get-mewsli-x.sh` in "
    "google-research/google-research's dense_representations_for_entity_retrieval/mel folder (as XTREME-R's "
    "scripts/download_mewslix.sh does), then copy candidate_set_entities.jsonl, wikipedia_pairs-{train,dev}.jsonl "
    "and wikinews_mentions-{dev,test}.jsonl from mewsli_x/output/dataset/ into {root}/mewslix/",
    expect=("mewslix/candidate_set_entities.jsonl", "mewslix/wikinews_mentions-test.jsonl"),
)

# --- XGLUE (microsoft/XGLUE) -----------------------------------------------------------------------------------

XGLUE = [
    Source("https://xglue.blob.core.windows.net/xglue/xglue_full_dataset.tar.gz", "xglue", "tar",
           hint="the XGLUE README (github.com/microsoft/XGLUE) links the archive; if the blob is gone, fetch "
                "xglue_full_dataset.tar.gz from wherever Microsoft now hosts it"),
]

# --- English intermediate tasks (each data set's own release) --------------------------------------------------

INTERMEDIATE: dict[str, list[Source] | ManualSource] = {
    "mnli": [Source("https://cims.nyu.edu/~sbowman/multinli/multinli_1.0.zip", "mnli", "zip")],
    "snli": [Source("https://nlp.stanford.edu/projects/snli/snli_1.0.zip", "snli", "zip")],
    "anli": [Source(f"{FB}/anli/anli_v1.0.zip", "anli", "zip")],
    # GLUE's QQP release (train/dev/test tsv), the one jiant and the paper used.
    "qqp": [Source(f"{FB}/glue/data/QQP-clean.zip", "qqp", "zip")],
    "squad": SQUAD_V1 + SQUAD_V2,
    "hellaswag": [Source(f"https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_{split}.jsonl",
                         f"hellaswag/hellaswag_{split}.jsonl") for split in ("train", "val", "test")],
    "commonsenseqa": [Source(f"https://s3.amazonaws.com/commensenseqa/{name}", f"commonsenseqa/{name}")
                      for name in ("train_rand_split.jsonl", "dev_rand_split.jsonl",
                                   "test_rand_split_no_answers.jsonl")],
    "cosmosqa": [Source(f"https://raw.githubusercontent.com/wilburOne/cosmosqa/master/data/{name}",
                        f"cosmosqa/{name}") for name in ("train.csv", "valid.csv", "test.jsonl")],
    "socialiqa": SOCIALIQA,
    "ccg": ManualSource(
        "CCGbank",
        "CCGbank is licensed by the LDC (LDC2005T13, https://catalog.ldc.upenn.edu/LDC2005T13) and cannot be "
        "downloaded automatically: obtain it under your institution's licence and extract it into {root}/ccg/ "
        "(so that {root}/ccg/ccgbank_1_1/data/AUTO/ holds the section folders)",
        expect=("ccg/ccgbank_1_1/data/AUTO",),
    ),
}

BENCHMARKS: dict[str, dict[str, list[Source] | ManualSource]] = {
    "xtreme": {
        "xnli": XNLI, "pawsx": PAWSX, "udpos": [UD_25], "panx": _panx(PANX_XTREME),
        "xquad": _xquad(XQUAD_LANGS), "mlqa": MLQA, "tydiqa": TYDIQA, "bucc2018": BUCC,
        "tatoeba": _tatoeba(TATOEBA_XTREME),
        "squad": SQUAD_V1,  # the English training data of XQuAD and MLQA
    },
    "xtreme-r": {
        "xnli": XNLI, "xcopa": XCOPA, "udpos": [UD_25, UD_27], "panx": _panx(PANX_XTREME_R),
        "xquad": _xquad([*XQUAD_LANGS, "ro"]), "mlqa": MLQA, "tydiqa": TYDIQA,
        "tatoeba": _tatoeba(TATOEBA_XTREME_R), "mewslix": MEWSLIX, "lareqa": LAREQA,
        # English training data of QA, and of XCOPA: SocialIQa here, COPA in the xcopa folder
        "squad": SQUAD_V1, "socialiqa": SOCIALIQA,
    },
    "xglue": {"xglue": XGLUE},
    "intermediate": INTERMEDIATE,
}


def select(benchmark: str, tasks: list[str] | None = None) -> dict[str, list[Source] | ManualSource]:
    """The sources of a benchmark, or of some of its tasks (task folder names), in table order."""
    if benchmark not in BENCHMARKS:
        raise XstiltsError(f"unknown benchmark {benchmark!r}: {did_you_mean(benchmark, list(BENCHMARKS))}")
    table = BENCHMARKS[benchmark]
    if not tasks:
        return dict(table)
    unknown = [t for t in tasks if t not in table]
    if unknown:
        raise XstiltsError(
            f"benchmark {benchmark!r} has no task {unknown[0]!r}: {did_you_mean(unknown[0], list(table))}"
        )
    return {t: table[t] for t in table if t in tasks}
