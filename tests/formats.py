"""Tiny files in the real MovieLens formats, written by the tests themselves."""

from __future__ import annotations

import zipfile
from pathlib import Path

# Six ratings by three users over four movies, in each source's own layout.
ML100K_U_DATA = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n2\t3\t2\t881250952\n3\t4\t1\t881250953\n3\t1\t4\t881250954\n"
_FLAGS = {  # 19 genre flags: unknown, Action, Adventure, Animation, Children's, Comedy, ...
    "animation_childrens_comedy": "0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0",
    "action_thriller": "0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0",
    "unknown": "1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0",
    "drama": "0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0",
}
ML100K_U_ITEM = (
    f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|{_FLAGS['animation_childrens_comedy']}\n"
    f"2|GoldenEye (1995)|01-Jan-1995||http://us.imdb.com/x|{_FLAGS['action_thriller']}\n"
    f"3|unknown||||{_FLAGS['unknown']}\n"
    f"4|Usual Suspects, The (1995)|14-Aug-1995||http://us.imdb.com/y|{_FLAGS['drama']}\n"
)
ML100K_U_USER = "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n"

RECBOLE_INTER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + ML100K_U_DATA
RECBOLE_ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "1\tToy Story\t1995\tAnimation Children's Comedy\n"
    "2\tGoldenEye\t1995\tAction Thriller\n"
    "3\tunkonwn\tunkonwn\tunknown\n"
    "4\tUsual Suspects, The\t1995\tDrama\n"
)
RECBOLE_USER = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n" + ML100K_U_USER.replace(
    "|", "\t"
)

ML1M_RATINGS = ML100K_U_DATA.replace("\t", "::")
ML1M_MOVIES = (
    "1::Toy Story (1995)::Animation|Children's|Comedy\n"
    "2::GoldenEye (1995)::Action|Thriller\n"
    "3::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n"
    "4::Usual Suspects, The (1995)::Crime|Thriller\n"
)
ML1M_USERS = "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55117\n"

LATEST_RATINGS = "userId,movieId,rating,timestamp\n" + ML100K_U_DATA.replace("\t", ",").replace(",5,", ",4.5,")
LATEST_MOVIES = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '2,"American President, The (1995)",Comedy|Drama|Romance\n'
    "3,Some Documentary,(no genres listed)\n"
    "4,Usual Suspects, The (1995),Crime|Mystery|Thriller\n"
).replace("4,Usual Suspects, The (1995)", '4,"Usual Suspects, The (1995)"')
LATEST_LINKS = "movieId,imdbId,tmdbId\n1,0114709,862\n2,0112346,9087\n3,0113228,\n4,0114814,629\n"
LATEST_TAGS = 'userId,movieId,tag,timestamp\n1,1,pixar,1139045764\n2,4,"twist ending, classic",1137206825\n'


def make_zip(path: Path, members: dict[str, str], *, encoding: str = "utf-8") -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode(encoding))
    return path
